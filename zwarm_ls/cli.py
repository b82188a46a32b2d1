"""`zwarm-ls`: the daemon (`serve`) and a headless CLI over the same session service,
for scripts and terminals. Every command takes `--json` for machine-readable output.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from . import __version__, admin_cli, changes_cli, doctor, models, trust
from .config import load_config, use_command_line
from .costs import format_cost
from .errors import InvalidParams, ZwarmError
from .orchestrator import cli as orchestrator_cli
from .protocol import (
    CleanParams,
    ConverseParams,
    ConverseResult,
    DelegateParams,
    DelegateResult,
    EndParams,
    ListParams,
    SessionRef,
    Status,
    Step,
    TrajectoryParams,
    WaitParams,
)
from .render import (
    SESSION_COLUMNS,
    format_conversation,
    format_session,
    format_step,
    format_tokens,
    print_json,
)
from .service import SessionService


async def cmd_sessions(svc: SessionService, args: argparse.Namespace) -> int:
    params = ListParams(status=args.status)
    if args.json:
        print_json(await svc.list(params))
        return 0
    page = svc.list_page(params)
    c = page.counts
    print(f"{c.total} sessions: {c.running} running, {c.completed} completed, {c.failed} failed, "
          f"{c.killed} killed, {c.needs_attention} need attention")
    if page.rows:
        print(SESSION_COLUMNS)
    for s in page.summaries:
        print(format_session(s))
    return 0


async def cmd_show(svc: SessionService, args: argparse.Namespace) -> int:
    result = await svc.check(SessionRef(session_id=args.id))
    messages = svc.index.meta(result.session_id).messages if args.all_turns else []
    if args.json:
        print_json(result.wire() | {"messages": messages} if args.all_turns else result)
        return 0
    u = result.usage
    print(f"{result.session_id}  {result.status}  {result.adapter}/{result.model}  turn "
          f"{result.turn}  {format_cost(result.cost_usd)}  {result.runtime_s:.1f}s  tokens "
          f"{format_tokens(u.input_tokens)} in / {format_tokens(u.output_tokens)} out")
    print(f"task: {result.task}")
    if result.error:
        print(f"error: {result.error}")
    if args.all_turns:
        print("\n".join(format_conversation(messages)))
    else:
        print(f"\n{result.response or '(no response yet)'}")
    return 0


async def cmd_traj(svc: SessionService, args: argparse.Namespace) -> int:
    session_id = svc.resolve(args.id)

    def emit(steps: list[Step]) -> None:
        for step in steps:
            if args.json:
                print_json(step)
            else:
                print(format_step(step, args.full), flush=True)

    if not args.follow:
        result = await svc.trajectory(TrajectoryParams(session_id=session_id, full=args.full))
        emit(result.steps)
        return 0
    # Subscribe first, then read what is there, so nothing falls between the two.
    updates = svc.updates()
    pending = asyncio.ensure_future(anext(updates))
    result = await svc.trajectory(TrajectoryParams(session_id=session_id, full=True))
    emit(result.steps)
    next_index = result.next_index
    status = result.status
    while status.is_active:
        update = await pending
        pending = asyncio.ensure_future(anext(updates))
        if update.session.id != session_id:
            continue
        emit([s for s in update.new_steps if s.index >= next_index])
        next_index = max([next_index, *(s.index + 1 for s in update.new_steps)])
        status = update.session.status
    pending.cancel()
    summary = svc.index.summary(session_id)
    if not args.json:
        tail = f": {summary.error}" if summary.error else ""
        print(f"session {summary.short_id} {summary.status}{tail}", flush=True)
    return 0 if summary.status == Status.COMPLETED else 1


async def _wait_and_report(svc: SessionService, session_id: str, as_json: bool) -> int:
    while True:
        result = await svc.wait(WaitParams(session_ids=[session_id], timeout_s=300))
        if result.finished:
            break
    check = await svc.check(SessionRef(session_id=session_id))
    if as_json:
        print_json(check)
    else:
        print(f"{check.status}: {check.error or check.response or '(no response)'}")
    return 0 if check.status == Status.COMPLETED else 1


async def cmd_delegate(svc: SessionService, args: argparse.Namespace) -> int:
    task = args.task if args.task != "-" else sys.stdin.read()
    if not task.strip():
        raise InvalidParams("the task is empty", hint="say what the agent should do")
    adapter, model = models.resolve(args.model, args.adapter)
    result = await svc.delegate(DelegateParams(task=task, adapter=adapter, model=model,
                                               working_dir=args.dir, isolation=args.isolation,
                                               executor=args.executor))
    if args.wait and not args.json:
        print(f"session {result.short_id} started ({result.adapter}/{result.model})",
              flush=True)
    return await _started(svc, args, result,
                          f"{result.session_id}  {result.status}  {result.adapter}/{result.model}")


async def cmd_converse(svc: SessionService, args: argparse.Namespace) -> int:
    result = await svc.converse(ConverseParams(session_id=args.id, message=args.message))
    return await _started(svc, args, result,
                          f"{result.session_id}  turn {result.turn}  {result.status}")


async def _started(svc: SessionService, args: argparse.Namespace,
                   result: DelegateResult | ConverseResult, text: str) -> int:
    """A turn was started: with --wait, follow it to the end; else say so."""
    if args.wait:
        return await _wait_and_report(svc, result.session_id, args.json)
    if args.json:
        print_json(result)
    else:
        print(text)
    return 0


async def cmd_end(svc: SessionService, args: argparse.Namespace) -> int:
    result = await svc.end(EndParams(session_id=args.id, reason=args.reason, delete=args.delete))
    if args.json:
        print_json(result)
    else:
        print(f"{result.session_id}  {result.status}")
    return 0


async def cmd_wait(svc: SessionService, args: argparse.Namespace) -> int:
    result = await svc.wait(WaitParams(session_ids=args.ids or None, timeout_s=args.timeout))
    if args.json:
        print_json(result)
    else:
        for s in result.finished:
            print(format_session(s))
        if not result.finished and not result.still_running:
            print("no running session to wait for")
    if result.timed_out:
        print(f"error: timed out after {args.timeout:g}s; still running: "
              f"{', '.join(i[:8] for i in result.still_running)}", file=sys.stderr)
        return 1
    return 0


async def cmd_clean(svc: SessionService, args: argparse.Namespace) -> int:
    result = await svc.clean(CleanParams(keep_days=args.keep_days, dry_run=args.dry_run))
    if args.json:
        print_json(result)
    else:
        verb = "would remove" if args.dry_run else "removed"
        print(f"{verb} {len(result.removed)} sessions")
    return 0


async def cmd_interactive(svc: SessionService, args: argparse.Namespace) -> int:
    from . import repl  # prompt_toolkit is loaded for the REPL only

    return await repl.Repl(svc, args.root).run()


Command = Callable[[SessionService, argparse.Namespace], Coroutine[Any, Any, int]]
COMMANDS: dict[str, Command] = {
    "sessions": cmd_sessions, "show": cmd_show, "traj": cmd_traj, "delegate": cmd_delegate,
    "converse": cmd_converse, "end": cmd_end, "wait": cmd_wait, "clean": cmd_clean,
    "ls": cmd_sessions, "interactive": cmd_interactive,
    **orchestrator_cli.COMMANDS, **changes_cli.COMMANDS, **admin_cli.COMMANDS,
}


def cmd_trust(folder: Path, as_json: bool) -> int:
    path = trust.trust(folder)
    if as_json:
        print_json({"trusted": str(folder.resolve()), "file": str(path)})
    else:
        print(f"trusted {folder.resolve()}: its .zwarm/ settings may now widen what agents "
              f"do (recorded in {path})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--root", type=Path,
                        help="project directory holding .zwarm/ (default: the editor's "
                             "workspace for serve, else the current directory)")
    common.add_argument("--json", action="store_true", help="machine-readable output")
    common.add_argument("--log-level", default="WARNING")
    common.add_argument("--log-file", type=Path)
    common.add_argument("--config", type=Path, metavar="FILE",
                        help="settings over the project's .zwarm/ files (TOML, or zwarm's "
                             "YAML with extends:)")
    common.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="one setting, e.g. orchestrator.max_steps=20 (repeatable; "
                             "wins over the files)")

    parser = argparse.ArgumentParser(prog="zwarm-ls", description=__doc__)
    parser.add_argument("--version", "-V", action="version", version=f"zwarm-ls {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", parents=[common], help="run the language server")
    serve.add_argument("--stdio", action="store_true", help="(default) speak LSP on stdio")
    serve.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP instead of stdio")
    serve.add_argument("--token", help=argparse.SUPPRESS)  # refused: argv is public
    serve.add_argument("--token-file", type=Path,
                       help="a 0600 file holding the secret TCP clients must send "
                            "(or set ZWARM_LS_TOKEN)")
    serve.add_argument("--allow-remote", action="store_true",
                       help="allow binding a non-loopback address (requires a token)")

    p = sub.add_parser("sessions", aliases=["ls"], parents=[common], help="list sessions")
    p.add_argument("--status", choices=[s.value for s in Status])
    p = sub.add_parser("show", parents=[common], help="status and last response of a session")
    p.add_argument("id")
    p.add_argument("--all-turns", action="store_true", help="every message of every turn")
    p = sub.add_parser("traj", parents=[common], help="a session's trajectory")
    p.add_argument("id")
    p.add_argument("--full", action="store_true")
    p.add_argument("--follow", "-f", action="store_true", help="stream steps until it ends")
    p = sub.add_parser("delegate", parents=[common], help="start a session ('-' reads stdin)")
    p.add_argument("task")
    p.add_argument("--adapter", choices=["codex", "claude"])
    p.add_argument("--model")
    p.add_argument("--dir", help="working directory (inside the allowed dirs)")
    p.add_argument("--isolation", choices=["worktree", "inplace"],
                   help="own git worktree, or your files (default: [sessions] isolation)")
    p.add_argument("--executor", choices=["local", "ray"],
                   help="where its turns run: this machine, or a Ray cluster "
                        "(default: [executor] kind)")
    p.add_argument("--wait", action="store_true", help="wait for it to finish")
    p = sub.add_parser("converse", parents=[common], help="send a session another message")
    p.add_argument("id")
    p.add_argument("message")
    p.add_argument("--wait", action="store_true")
    p = sub.add_parser("end", parents=[common], help="stop a running session")
    p.add_argument("id")
    p.add_argument("--delete", action="store_true", help="also remove it from the store")
    p.add_argument("--reason")
    p = sub.add_parser("wait", parents=[common], help="wait until one session finishes")
    p.add_argument("ids", nargs="*")
    p.add_argument("--timeout", type=float, default=300)
    p = sub.add_parser("clean", parents=[common], help="remove old finished sessions")
    p.add_argument("--keep-days", type=float, default=7)
    p.add_argument("--dry-run", action="store_true")
    p = sub.add_parser("trust", parents=[common],
                       help="let this folder's .zwarm/ config widen what agents may do")
    p.add_argument("folder", nargs="?", type=Path, help="default: the project (--root or cwd)")
    orchestrator_cli.add_parsers(sub, common)  # orchestrate, pilot
    changes_cli.add_parsers(sub, common)  # changes, apply, discard, blame
    admin_cli.add_parsers(sub, common)  # models, kill, logs, init, reset, configs
    doctor.add_parsers(sub, common)  # doctor
    sub.add_parser("interactive", parents=[common],
                   help="a REPL: spawn, ls, watch, continue, kill, models, !cmd")
    return parser


def setup_logging(level: str, log_file: Path | None) -> None:
    handler: logging.Handler = (logging.FileHandler(log_file) if log_file
                                else logging.StreamHandler(sys.stderr))  # never stdout
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)


async def run_command(command: Command, args: argparse.Namespace) -> int:
    config, _ = load_config(args.root)
    svc = SessionService(config)
    await svc.start()
    try:
        return await command(svc, args)
    finally:
        await svc.stop()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.log_level, args.log_file)
    try:
        use_command_line(args.config, args.set)
    except ZwarmError as exc:
        return report_error(exc, args.json)
    if args.command == "serve":
        from .server import serve

        args.root = args.root.resolve() if args.root else None
        return serve(args)
    args.root = (args.root or Path.cwd()).resolve()
    try:
        if args.command == "trust":
            return cmd_trust(args.folder or args.root, args.json)
        if args.command in admin_cli.LOCAL:
            return admin_cli.LOCAL[args.command](args)
        if args.command in doctor.LOCAL:
            return doctor.LOCAL[args.command](args)
        return asyncio.run(run_command(COMMANDS[args.command], args))
    except ValidationError as exc:
        return report_error(InvalidParams(validation_message(exc)), args.json)
    except ZwarmError as exc:
        return report_error(exc, args.json)
    except (KeyboardInterrupt, EOFError):
        return 130


def validation_message(exc: ValidationError) -> str:
    """'task: String should have at least 1 character', without pydantic's banner."""
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'input'}: {e['msg']}"
                     for e in exc.errors()[:3])


def report_error(exc: ZwarmError, as_json: bool) -> int:
    if as_json:
        print_json({"error": {"code": exc.code, "message": exc.message, "hint": exc.hint}})
    else:
        print(f"error: {exc}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
