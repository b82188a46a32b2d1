"""Housekeeping verbs of `zwarm-ls`: models, kill, logs, init, reset, configs.

    zwarm-ls models [--adapter A]
    zwarm-ls kill ID... | --all
    zwarm-ls logs ID [--turn N] [--raw]
    zwarm-ls init [--adapter A] [--codex-model M] [--claude-model M] [--yes]
    zwarm-ls reset [--all] [--yes]
    zwarm-ls configs show

`models`, `init` and `configs` need no session service (LOCAL); the rest run over it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from . import config as config_mod
from . import models, runner
from .errors import InvalidParams, StoreError
from .protocol import CleanParams, EndParams, EndResult
from .render import format_model_rows, model_wire, print_json
from .service import SessionService
from .store import Store, read_json

# The launcher puts this in every agent's environment; a process that carries an id of
# this store after its session ended is a stray (it left its process group).
SESSION_ENV = runner.SESSION_ENV
CONFIG_FILES = ("config.toml", "codex.toml", "claude.toml")


def _ask(question: str, default: str) -> str:
    answer = input(f"{question} [{default}]: ").strip()
    return answer or default


def _confirm(question: str) -> bool:
    return input(f"{question} [y/N]: ").strip().lower() in ("y", "yes")


def _interactive(args: argparse.Namespace) -> bool:
    return not args.yes and not args.json and sys.stdin.isatty()


# ----- models ----------------------------------------------------------------------------


def cmd_models(args: argparse.Namespace) -> int:
    rows = [m for m in models.MODELS if args.adapter in (None, m.adapter)]
    if args.json:
        print_json({"models": [model_wire(m) for m in rows]})
    else:
        print("\n".join(format_model_rows(rows)))
    return 0


# ----- kill ------------------------------------------------------------------------------


def stray_processes(store: Store, spare: frozenset[str] = frozenset()) -> list[int]:
    """Pids whose environment names a session of this store (other than `spare`)."""
    known = set(store.list_ids()) - spare
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        for var in environ:
            name, _, value = var.partition(b"=")
            if name == SESSION_ENV.encode() and value.decode(errors="replace") in known:
                found.append(int(entry.name))
    return found


def stop_strays(store: Store, spare: frozenset[str] = frozenset()) -> int:
    """Whatever is left of finished sessions' process groups (an agent's background job),
    and processes that carry a session id of this store, except those of `spare`.
    Returns how many were signalled."""
    count = 0
    for session_id in set(store.list_ids()) - spare:
        turns = store.session_dir(session_id) / "turns"
        for run_file in sorted(turns.glob("turn_*.run.json")) if turns.is_dir() else []:
            count += runner.stop_orphaned_group(read_json(run_file))
    for pid in stray_processes(store, spare):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
            count += 1
    return count


async def kill(svc: SessionService, refs: list[str] | None,
               reason: str = "killed from the CLI") -> tuple[list[EndResult], int]:
    """End the sessions named, or (None) every running one and then the strays; returns
    the end results and how many stray processes were signalled."""
    ids = [s.id for s in svc.index.summaries() if s.status.is_active] if refs is None \
        else [svc.resolve(ref) for ref in refs]
    ended = [await svc.end(EndParams(session_id=i, reason=reason)) for i in ids]
    if refs is not None:
        return ended, 0
    # A session started (by another daemon) while these ended is nobody's stray.
    spare = frozenset(s.id for s in svc.index.summaries() if s.status.is_active) - set(ids)
    return ended, await asyncio.to_thread(stop_strays, svc.store, spare)


async def cmd_kill(svc: SessionService, args: argparse.Namespace) -> int:
    if not args.all and not args.ids:
        raise InvalidParams("name the sessions to kill, or pass --all")
    ended, strays = await kill(svc, None if args.all else args.ids)
    if args.json:
        print_json({"killed": [e.session_id for e in ended if e.was_running], "strays": strays})
    else:
        for e in ended:
            print(f"{e.session_id[:8]}  {e.status}" + ("" if e.was_running
                                                       else " (was not running)"))
        if args.all:
            print(f"killed {sum(e.was_running for e in ended)} running session(s)"
                  + (f" and {strays} stray process(es)" if strays else ""))
    return 0


# ----- logs ------------------------------------------------------------------------------


def _event_line(raw: bytes) -> str:
    text = raw.decode("utf-8", errors="replace").rstrip("\n")
    try:
        event = json.loads(text)
    except ValueError:
        return f"(not JSON) {text[:300]}"
    if not isinstance(event, dict):
        return text[:300]
    kind = event.get("type", "?")
    item = event.get("item")
    if isinstance(item, dict) and item.get("type"):
        kind = f"{kind} {item['type']}"
    rest = json.dumps(event, ensure_ascii=False)
    return f"{kind}: {rest[:300]}" + ("…" if len(rest) > 300 else "")


async def cmd_logs(svc: SessionService, args: argparse.Namespace) -> int:
    session_id = svc.resolve(args.id)
    meta = svc.index.meta(session_id)
    turn = args.turn or meta.turn
    if not 1 <= turn <= max(meta.turn, 1):
        raise InvalidParams(f"session {session_id[:8]} has turns 1…{meta.turn}, not {turn}")
    paths = svc.store.turn_paths(session_id, turn)
    if not paths.output.is_file():
        raise StoreError(f"no output for turn {turn} of {session_id[:8]}",
                         hint="the turn may not have started")
    data = paths.output.read_bytes()
    if args.raw:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return 0
    lines = [_event_line(line) for line in data.splitlines() if line.strip()]
    stderr = paths.stderr.read_bytes().decode(errors="replace") if paths.stderr.is_file() else ""
    if args.json:
        print_json({"sessionId": session_id, "turn": turn, "events": lines, "stderr": stderr})
        return 0
    print(f"session {session_id[:8]} turn {turn}: {len(lines)} events ({paths.output})")
    print("\n".join(lines))
    if stderr.strip():
        print("--- stderr ---\n" + stderr.rstrip())
    return 0


# ----- init ------------------------------------------------------------------------------


def init_files(adapter: str, codex_model: str, claude_model: str) -> dict[str, str]:
    return {
        "config.toml": "[daemon]\n# allowed_dirs = [\"services\"]   # where agents may work; "
                       f"default: this project only\ndefault_adapter = \"{adapter}\"\n\n"
                       "[orchestrator]\nprovider = \"openai\"\nmodel = \"gpt-5-mini\"\n"
                       "max_steps = 50\n",
        "codex.toml": f"model = \"{codex_model}\"\nsandbox = \"workspace-write\"\n"
                      "# full_danger = true   # no sandbox, no approvals: only if you mean it\n",
        "claude.toml": f"model = \"{claude_model}\"\npermission_mode = \"acceptEdits\"\n"
                       "# allowed_tools = [\"Bash\"]\n"
                       "# full_danger = true   # bypass permissions\n",
    }


def _known_model(model: str, adapter: str) -> str:
    return models.resolve(model, adapter)[1] or model


def cmd_init(args: argparse.Namespace) -> int:
    adapter = args.adapter or "codex"
    codex_model = args.codex_model or models.default_model("codex") or "gpt-5.1-codex-mini"
    claude_model = args.claude_model or models.default_model("claude") or "sonnet"
    if _interactive(args):
        print(f"Setting up {args.root / config_mod.ZWARM_DIR} (Enter keeps the default).")
        adapter = _ask("Default agent (codex or claude)", adapter)
        if adapter not in models.ADAPTERS:
            raise InvalidParams(f"unknown agent '{adapter}'", hint="codex or claude")
        codex_model = _ask("Codex model", codex_model)
        claude_model = _ask("Claude model", claude_model)
    codex_model = _known_model(codex_model, "codex")
    claude_model = _known_model(claude_model, "claude")
    zdir = args.root / config_mod.ZWARM_DIR
    (zdir / "sessions").mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in init_files(adapter, codex_model, claude_model).items():
        path = zdir / name
        if not path.exists():
            path.write_text(text, encoding="utf-8")
            written.append(str(path))
    if args.json:
        print_json({"root": str(args.root), "written": written})
    else:
        kept = [n for n in CONFIG_FILES if str(zdir / n) not in written]
        print(f"initialized {zdir}" + (f" (wrote {', '.join(written)})" if written else "")
              + (f"; kept existing {', '.join(kept)}" if kept else ""))
    return 0


# ----- reset -----------------------------------------------------------------------------


async def cmd_reset(svc: SessionService, args: argparse.Namespace) -> int:
    zdir = svc.config.zwarm_dir
    summaries = svc.index.summaries()
    running = [s for s in summaries if s.status.is_active]
    what = (f"kill {len(running)} running session(s), delete {len(summaries)} session(s) with "
            f"their change sets and worktrees, and the pilot and orchestrator runs under {zdir}"
            + (", config files included" if args.all else " (config files are kept)"))
    if not args.yes:
        if args.json or not sys.stdin.isatty():
            raise InvalidParams(f"reset would {what}", hint="confirm with --yes")
        if not _confirm(f"This will {what}. Continue?"):
            print("nothing changed")
            return 1
    for s in running:
        await svc.end(EndParams(session_id=s.id, reason="reset"))
    await asyncio.to_thread(stop_strays, svc.store)
    # keep_days=0 with force: every session, unapplied hunks included (the user confirmed).
    await svc.clean(CleanParams(keep_days=0, force=True))
    await svc.stop()
    removed = []
    for entry in sorted(zdir.iterdir()) if zdir.is_dir() else []:
        if entry.name in CONFIG_FILES and not args.all:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry.name)
    if args.json:
        print_json({"removed": removed, "killed": [s.id for s in running]})
    else:
        print(f"reset {zdir}: removed {', '.join(removed) or 'nothing'}")
    return 0


# ----- configs ---------------------------------------------------------------------------


def cmd_configs(args: argparse.Namespace) -> int:
    values, sources, warnings = config_mod.config_sources(args.root)
    if args.json:
        print_json({"config": values, "sources": sources, "warnings": warnings})
        return 0
    width = max(len(k) for k in values)
    for key, value in values.items():
        shown = json.dumps(value, ensure_ascii=False)
        print(f"{key:<{width}} = {shown}    # {sources[key]}")
    for warning in warnings:
        print(f"warning: {warning}")
    return 0


Command = Callable[[SessionService, argparse.Namespace], Coroutine[Any, Any, int]]
COMMANDS: dict[str, Command] = {"kill": cmd_kill, "logs": cmd_logs, "reset": cmd_reset}
LOCAL: dict[str, Callable[[argparse.Namespace], int]] = {
    "models": cmd_models, "init": cmd_init, "configs": cmd_configs}


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("models", parents=[common], help="the models zwarm-ls knows")
    p.add_argument("--adapter", choices=list(models.ADAPTERS))
    p = sub.add_parser("kill", parents=[common], help="stop sessions (--all: every one)")
    p.add_argument("ids", nargs="*")
    p.add_argument("--all", action="store_true",
                   help="every running session, and stray agent processes of this project")
    p = sub.add_parser("logs", parents=[common], help="a turn's output as the agent wrote it")
    p.add_argument("id")
    p.add_argument("--turn", type=int, help="default: the latest turn")
    p.add_argument("--raw", action="store_true", help="the bytes as written, unparsed")
    p = sub.add_parser("init", parents=[common],
                       help="create .zwarm/ with safe defaults (asks when on a terminal)")
    p.add_argument("--adapter", choices=list(models.ADAPTERS), help="the default agent")
    p.add_argument("--codex-model")
    p.add_argument("--claude-model")
    p.add_argument("--yes", "-y", action="store_true", help="ask nothing: defaults and flags")
    p = sub.add_parser("reset", parents=[common],
                       help="stop and delete every session and run of this project")
    p.add_argument("--all", action="store_true", help="delete the config files too")
    p.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    p = sub.add_parser("configs", parents=[common], help="the effective configuration")
    p.add_argument("action", choices=["show"], nargs="?", default="show")
