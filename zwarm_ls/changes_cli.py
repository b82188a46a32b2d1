"""`zwarm-ls changes|apply|discard|blame`: change sets in the terminal, over the same
review service the editors use. Without an editor the daemon writes the files itself.

    zwarm-ls changes ID [--stat|--patch] [--turn N]
    zwarm-ls apply ID [--hunk H]... [--dry-run]
    zwarm-ls discard ID [--hunk H]...
    zwarm-ls blame FILE
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from .changes.changeset import uri_of
from .protocol import (
    ApplyChangesParams,
    BlameParams,
    DiscardChangesParams,
    SessionChangesParams,
    SessionChangesResult,
)
from .render import print_json
from .service import SessionService

STATE_MARKS = {"pending": "?", "applied": "✓", "discarded": "✗", "conflict": "!"}
COLOURS = {"+": "\033[32m", "-": "\033[31m", "@": "\033[36m", "!": "\033[33m"}
RESET = "\033[0m"


def _paint(line: str, colour: bool) -> str:
    code = COLOURS.get(line[:1]) if colour else None
    return f"{code}{line}{RESET}" if code else line


def format_stat(result: SessionChangesResult) -> list[str]:
    if not result.known:
        return [f"{result.short_id}: {result.note}"]
    c = result.counts
    lines = [f"{result.short_id} ({result.isolation}): {c.files} files, {c.pending} pending, "
             f"{c.applied} applied, {c.discarded} discarded, {c.conflict} conflict"
             + (" — still running" if result.stale else "")]
    for f in result.files:
        lines.append(f"  {f.status:<8} {f.rel_path}  +{f.added} -{f.removed}")
        for h in f.hunks:
            where = f"{h.new_range.start.line + 1}"
            mixed = " mixed" if h.mixed else ""
            lines.append(f"    {STATE_MARKS[h.state]} {h.id}  t{h.turn} line {where}"
                         f"  +{h.added} -{h.removed}{mixed}  {h.preview}")
    lines += [f"  skipped {s.path}: {s.reason}" for s in result.skipped]
    return lines


async def cmd_changes(svc: SessionService, args: argparse.Namespace) -> int:
    result = await svc.review.session_changes(
        SessionChangesParams(session_id=args.id, turn=args.turn))
    if args.json:
        print_json(result)
        return 0
    colour = sys.stdout.isatty()
    for line in format_stat(result):
        print(line)
    if args.patch and result.base_ref and result.result_ref:
        patch = await svc.review.patch(result.base_ref, result.result_ref,
                                       [f.rel_path for f in result.files])
        for line in patch.splitlines():
            print(_paint(line, colour))
    return 0


def _report(result: Any, verb: str, as_json: bool, dry_run: bool = False) -> int:
    if as_json:
        print_json(result)
    else:
        done = getattr(result, verb)
        if dry_run:
            print(f"would apply {len(done)} hunk(s); nothing written")
        else:
            print(f"{verb} {len(done)} hunk(s)" + (f" (written by {result.written_by})"
                                                   if done else ""))
        for s in result.skipped:
            print(f"  skipped {s.hunk_id}: {s.reason}")
        for c in result.conflicts:
            print(f"  conflict {c.hunk_id} in {c.path}: {c.reason} — {c.detail or ''}")
    return 1 if result.conflicts else 0


async def cmd_apply(svc: SessionService, args: argparse.Namespace) -> int:
    result = await svc.review.apply_changes(ApplyChangesParams(
        session_id=args.id, hunk_ids=args.hunk or None, dry_run=args.dry_run))
    return _report(result, "applied", args.json, args.dry_run)


async def cmd_discard(svc: SessionService, args: argparse.Namespace) -> int:
    result = await svc.review.discard_changes(DiscardChangesParams(
        session_id=args.id, hunk_ids=args.hunk or None))
    return _report(result, "discarded", args.json)


async def cmd_blame(svc: SessionService, args: argparse.Namespace) -> int:
    path = Path(args.file).resolve()
    result = await svc.review.blame(BlameParams(uri=uri_of(path)))
    if args.json:
        print_json(result)
        return 0
    if not result.known:
        print(f"{args.file}: no session ever changed it")
        return 0
    text = path.read_text(errors="replace").splitlines() if path.is_file() else []
    for line in result.lines:
        who = (f"{line.adapter or 'agent'} {line.short_id} t{line.turn}"
               if line.author == "agent" else "user")
        content = text[line.line] if line.line < len(text) else ""
        print(f"{who:<22} {line.line + 1:>5}  {content}")
    return 0


Command = Callable[[SessionService, argparse.Namespace], Coroutine[Any, Any, int]]
COMMANDS: dict[str, Command] = {"changes": cmd_changes, "apply": cmd_apply,
                                "discard": cmd_discard, "blame": cmd_blame}


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("changes", parents=[common], help="a session's change set")
    p.add_argument("id")
    p.add_argument("--stat", action="store_true", help="files and hunks (the default)")
    p.add_argument("--patch", action="store_true", help="also print the diff")
    p.add_argument("--turn", type=int, help="only what this turn changed")
    for verb, help_text in (("apply", "apply a session's hunks to your files"),
                            ("discard", "reject a session's hunks (reverts applied ones)")):
        p = sub.add_parser(verb, parents=[common], help=help_text)
        p.add_argument("id")
        p.add_argument("--hunk", action="append", metavar="H",
                       help="a hunk id from `changes` (repeatable; default: all)")
        if verb == "apply":
            p.add_argument("--dry-run", action="store_true", help="show what would change")
    p = sub.add_parser("blame", parents=[common], help="who wrote each line of a file")
    p.add_argument("file")
