"""`zwarm-ls orchestrate TASK` and `zwarm-ls pilot` for terminals and scripts.

Both run in-process over the project's session service. Steps print as they happen;
`--json` prints one JSON object per step and one for the result. `chat` asks on the
terminal when stdin is one, and otherwise tells the model nobody is there to answer.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from ..protocol import Model, Step
from ..render import format_step, print_json
from ..service import SessionService
from .orchestrator import Orchestrator
from .pilot import Pilot


class TerminalUser:
    async def ask(self, message: str, options: list[str] | None) -> str | None:
        if not sys.stdin.isatty():
            return None
        choices = f" [{'/'.join(options)}]" if options else ""
        print(f"\n? {message}{choices}", file=sys.stderr, flush=True)
        answer = await asyncio.to_thread(sys.stdin.readline)
        return answer.strip() or None

    async def tell(self, message: str) -> None:
        print(f"\n[orchestrator] {message}", file=sys.stderr, flush=True)


def _printer(as_json: bool) -> Callable[[list[Step]], None]:
    def show(steps: list[Step]) -> None:
        for step in steps:
            if as_json:
                print_json(step)
            elif step.kind != "usage":
                print(format_step(step), flush=True)
    return show


def _emit(model: Model, as_json: bool, text: str) -> None:
    if as_json:
        print_json(model)
    else:
        print(text, flush=True)


async def cmd_orchestrate(svc: SessionService, args: argparse.Namespace) -> int:
    task = args.task if args.task != "-" else sys.stdin.read()
    run = Orchestrator(svc, task, max_steps=args.max_steps, user_channel=TerminalUser(),
                       on_steps=_printer(args.json))
    result = await run.run()
    _emit(result, args.json, f"\n{result.status} after {result.step_count} steps"
          f" (run {result.run_id}): {result.message or ''}")
    return 0 if result.status == "exited" else 1


async def _turn(pilot: Pilot, message: str, as_json: bool) -> None:
    result = await pilot.send(message)
    _emit(result, as_json, f"\n[{result.checkpoint}] {result.reply}")


def _history(pilot: Pilot, as_json: bool) -> None:
    history = pilot.history()
    lines = [f"{'*' if c.current else ' '}[{c.label}] steps={c.step_count} | {c.instruction}"
             for c in history.checkpoints]
    _emit(history, as_json, "\n".join(lines) or "(no checkpoints yet)")


async def _repl(pilot: Pilot, as_json: bool) -> int:
    print(f"pilot {pilot.pilot_id} at {pilot.label(pilot.state.current)}; :history, "
          ":goto Tn|root, :quit", file=sys.stderr)
    while True:
        print("> ", end="", file=sys.stderr, flush=True)
        line = await asyncio.to_thread(sys.stdin.readline)
        if not line or line.strip() in (":quit", ":q", ":exit"):
            return 0
        text = line.strip()
        if not text:
            continue
        if text == ":history":
            _history(pilot, as_json)
        elif text.startswith(":goto"):
            result = pilot.goto(text.removeprefix(":goto").strip() or "root")
            _emit(result, as_json, f"now at {result.current}")
        else:
            await _turn(pilot, text, as_json)


async def cmd_pilot(svc: SessionService, args: argparse.Namespace) -> int:
    pilot = Pilot(svc, args.id, user_channel=TerminalUser(), on_steps=_printer(args.json))
    if args.goto:
        result = pilot.goto(args.goto)
        _emit(result, args.json, f"now at {result.current}")
    if args.history:
        _history(pilot, args.json)
    if args.message:
        await _turn(pilot, args.message, args.json)
    if args.message or args.history or args.goto:
        return 0
    return await _repl(pilot, args.json)


Command = Callable[[SessionService, argparse.Namespace], Coroutine[Any, Any, int]]
COMMANDS: dict[str, Command] = {"orchestrate": cmd_orchestrate, "pilot": cmd_pilot}


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("orchestrate", parents=[common],
                       help="let the orchestrator LLM carry out a task ('-' reads stdin)")
    p.add_argument("task")
    p.add_argument("--max-steps", type=int, help="default: [orchestrator] max_steps")
    p = sub.add_parser("pilot", parents=[common],
                       help="talk to the pilot LLM (a REPL, or one turn with --message)")
    p.add_argument("--id", default="default", help="pilot conversation id (default: default)")
    p.add_argument("--message", "-m", help="send one message and print the reply")
    p.add_argument("--history", action="store_true", help="list the checkpoints")
    p.add_argument("--goto", metavar="Tn|root", help="go back to a checkpoint first")
