"""`zwarm-ls orchestrate TASK` and `zwarm-ls pilot` for terminals and scripts.

Both run in-process over the project's session service. Steps print as they happen;
`--json` prints one JSON object per step and one for the result. `chat` asks on the
terminal when stdin is one, and otherwise tells the model nobody is there to answer.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from ..costs import format_cost
from ..errors import InvalidParams, ZwarmError
from ..models import adapter_for_model
from ..protocol import ListRunsParams, Model, Step
from ..render import format_session, format_step, format_tokens, print_json
from ..service import SessionService
from .orchestrator import Orchestrator, list_run_summaries, list_runs
from .pilot import Pilot
from .providers import REASONING_EFFORTS

MULTILINE = '"""'


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
    _model_options(svc, args)
    resume = _resume_ref(args)
    if resume:
        if args.task:
            raise InvalidParams("give a task or --resume RUN, not both")
        run = Orchestrator.resume(svc, _run_id(svc, resume), max_steps=args.max_steps,
                                  user_channel=TerminalUser(), on_steps=_printer(args.json))
    else:
        task = args.task if args.task != "-" else sys.stdin.read()
        if not (task or "").strip():
            raise InvalidParams("the task is empty", hint="say what the orchestrator should "
                                "do, or resume a run with --resume RUN")
        run = Orchestrator(svc, task, max_steps=args.max_steps, user_channel=TerminalUser(),
                           on_steps=_printer(args.json), name=_new_name(svc, args.name))
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


PILOT_HELP = """\
  (text)          a message to the pilot; \"\"\" on its own line starts and ends a
                  message of several lines
  :status         checkpoint, model, tokens, cost and the pilot's sessions in numbers
  :sessions       the sessions this conversation started
  :history        the checkpoints (T1, T2, …)
  :goto Tn|root   go back to a checkpoint (sessions and files stay as they are)
  :help           this list
  :quit           leave (the conversation is saved after every turn)"""


async def _read_line() -> str | None:
    print("> ", end="", file=sys.stderr, flush=True)
    line = await asyncio.to_thread(sys.stdin.readline)
    return line if line else None


async def _read_message(first: str) -> tuple[str, bool] | None:
    """(message, whether it was quoted): one that opens with \"\"\" runs until a line that
    ends with \"\"\", and is never taken for a command."""
    text = first.strip()
    if not text.startswith(MULTILINE):
        return text, False
    body = text.removeprefix(MULTILINE)
    if body.endswith(MULTILINE):
        return body.removesuffix(MULTILINE).strip(), True
    lines = [body]
    while True:
        print("... ", end="", file=sys.stderr, flush=True)
        more = await asyncio.to_thread(sys.stdin.readline)
        if not more:
            return None
        more = more.rstrip("\n")
        if more.rstrip().endswith(MULTILINE):
            lines.append(more.rstrip().removesuffix(MULTILINE))
            return "\n".join(lines).strip(), True
        lines.append(more)


def _status(pilot: Pilot, as_json: bool) -> None:
    st = pilot.status()
    window = f" of the model's {format_tokens(st.context_window)}" if st.context_window else ""
    effort = f", reasoning {st.reasoning_effort}" if st.reasoning_effort else ""
    counts: dict[str, int] = {}
    for session_id in st.sessions:
        status = _session_status(pilot, session_id)
        counts[status] = counts.get(status, 0) + 1
    sessions = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "none"
    _emit(st, as_json, "\n".join([
        f"pilot {st.pilot_id} at {st.current} ({st.checkpoints} checkpoints, "
        f"{st.step_count} model steps)",
        f"model: {st.model} ({st.provider}{effort})",
        f"tokens: {format_tokens(st.usage.input_tokens)} in, "
        f"{format_tokens(st.usage.output_tokens)} out{window}; cost {format_cost(st.cost_usd)}",
        f"history: {st.history_chars} of {st.max_context_chars} characters",
        f"sessions: {len(st.sessions)} ({sessions})"]))


def _session_status(pilot: Pilot, session_id: str) -> str:
    try:
        return pilot.service.index.summary(session_id).status.value
    except ZwarmError:
        return "deleted"


def _sessions(pilot: Pilot, as_json: bool) -> None:
    rows = []
    for session_id in pilot.status().sessions:
        with contextlib.suppress(ZwarmError):  # deleted since: nothing to show
            rows.append(pilot.service.index.summary(session_id))
    if as_json:
        print_json({"sessions": [r.wire() for r in rows]})
    else:
        print("\n".join(format_session(r) for r in rows) or "(no sessions yet)")


async def _repl(pilot: Pilot, as_json: bool) -> int:
    print(f"pilot {pilot.pilot_id} at {pilot.label(pilot.state.current)}; :help for the "
          "commands", file=sys.stderr)
    while True:
        line = await _read_line()
        if line is None:
            return 0
        read = await _read_message(line)
        if read is None:
            return 0
        text, quoted = read
        if not text:
            continue
        command, _, arg = ("", "", "") if quoted else text.partition(" ")
        try:
            if command in (":quit", ":q", ":exit"):
                return 0
            if command == ":help":
                print(PILOT_HELP)
            elif command in (":status", ":state"):
                _status(pilot, as_json)
            elif command == ":sessions":
                _sessions(pilot, as_json)
            elif command == ":history":
                _history(pilot, as_json)
            elif command == ":goto":
                result = pilot.goto(arg.strip() or "root")
                _emit(result, as_json, f"now at {result.current}")
            elif command.startswith(":"):
                # Never sent to the model: a mistyped command would cost a turn.
                print(f"unknown command {command} (:help lists them)", file=sys.stderr)
            else:
                await _turn(pilot, text, as_json)
        except ZwarmError as exc:
            print(f"error: {exc}", file=sys.stderr)


def _model_options(svc: SessionService, args: argparse.Namespace) -> None:
    """--model (its provider detected from the model table) and --reasoning-effort over
    `[orchestrator]`, for this process only."""
    cfg = svc.config.orchestrator
    update: dict[str, Any] = {}
    if args.model:
        adapter = adapter_for_model(args.model)
        update["model"] = args.model
        update["provider"] = {"claude": "anthropic", "codex": "openai"}.get(adapter or "",
                                                                            cfg.provider)
    if args.reasoning_effort:
        update["reasoning_effort"] = args.reasoning_effort
    if update:
        svc.config = svc.config.model_copy(update={"orchestrator": cfg.model_copy(
            update=update)})


async def cmd_pilot(svc: SessionService, args: argparse.Namespace) -> int:
    _model_options(svc, args)
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


def _resume_ref(args: argparse.Namespace) -> str | None:
    """The run to carry on: `--resume RUN`, or zwarm's spelling `--resume --instance RUN`
    (`--instance` alone names the run to resume as well)."""
    if args.resume is True and not args.instance:
        raise InvalidParams("--resume needs the run: --resume RUN (or --instance RUN)",
                            hint="`zwarm-ls runs` lists them")
    if isinstance(args.resume, str) and args.instance and args.resume != args.instance:
        raise InvalidParams("--resume and --instance name different runs")
    return args.instance or (args.resume if isinstance(args.resume, str) else None)


def _new_name(svc: SessionService, name: str | None) -> str | None:
    """A new run's label: unique, so that it finds that run again."""
    if name is not None and any(r.name == name for r in list_runs(svc.config)):
        raise InvalidParams(f"a run is already named '{name}'",
                            hint=f"resume it with --resume {name}, or pick another name")
    return name


def _run_id(svc: SessionService, ref: str) -> str:
    """A run id, its name, or a unique part of its id (the listing shows ids whole, but
    they are long)."""
    runs = list_runs(svc.config)
    ids = [r.run_id for r in runs]
    if ref in ids:
        return ref
    named = [r.run_id for r in runs if r.name == ref]
    matches = named or [i for i in ids if ref in i]
    if len(matches) == 1:
        return matches[0]
    raise InvalidParams(f"no orchestrator run matches '{ref}'" if not matches else
                        f"'{ref}' matches {len(matches)} runs", hint="`zwarm-ls runs` lists them")


async def cmd_runs(svc: SessionService, args: argparse.Namespace) -> int:
    result = list_run_summaries(svc.config, ListRunsParams())
    if args.command == "instances" and not args.all:  # zwarm's listing: the live ones
        result.runs = [r for r in result.runs if r.status == "running" or r.resumable]
    if args.json:
        print_json(result)
        return 0
    for r in result.runs:
        label = f" [{r.name}]" if r.name else ""
        print(f"{r.run_id}{label}  {r.status:<16} {r.step_count:>3}/{r.max_steps:<3} steps "
              f"{len(r.sessions):>2} sessions  {' '.join(r.task.split())[:50]}")
    if not result.runs:
        print("no orchestrator runs yet")
    elif any(r.resumable for r in result.runs):
        print("(resume one with: zwarm-ls orchestrate --resume RUN)")
    return 0


Command = Callable[[SessionService, argparse.Namespace], Coroutine[Any, Any, int]]
COMMANDS: dict[str, Command] = {"orchestrate": cmd_orchestrate, "pilot": cmd_pilot,
                                "runs": cmd_runs, "instances": cmd_runs}


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("orchestrate", parents=[common],
                       help="let the orchestrator LLM carry out a task ('-' reads stdin)")
    p.add_argument("task", nargs="?")
    p.add_argument("--max-steps", type=int, help="default: [orchestrator] max_steps")
    p.add_argument("--resume", metavar="RUN", nargs="?", const=True,
                   help="carry on a stopped or interrupted run (its id, a unique part of "
                   "it, or its name, from `runs`)")
    p.add_argument("--instance", "-i", metavar="RUN",
                   help="zwarm's spelling of the run to resume: --resume --instance RUN")
    p.add_argument("--name", "-n", help="a label for the new run, to resume it by")
    _model_arguments(p, "the orchestrator's")
    sub.add_parser("runs", parents=[common], help="orchestrator runs, newest first")
    p = sub.add_parser("instances", parents=[common],
                       help="zwarm's name for runs: the running and resumable ones")
    p.add_argument("--all", "-a", action="store_true", help="finished runs too")
    p = sub.add_parser("pilot", parents=[common],
                       help="talk to the pilot LLM (a REPL, or one turn with --message)")
    p.add_argument("--id", default="default", help="pilot conversation id (default: default)")
    p.add_argument("--message", "-m", help="send one message and print the reply")
    p.add_argument("--history", action="store_true", help="list the checkpoints")
    p.add_argument("--goto", metavar="Tn|root", help="go back to a checkpoint first")
    _model_arguments(p, "the pilot's")


def _model_arguments(p: argparse.ArgumentParser, whose: str) -> None:
    p.add_argument("--model", help=f"{whose} LLM (default: [orchestrator] model); its "
                   "provider comes from the model table")
    p.add_argument("--reasoning-effort", choices=REASONING_EFFORTS,
                   help="how hard the model thinks: OpenAI reasoning.effort, or an Anthropic "
                   "extended-thinking budget (default: [orchestrator] reasoning_effort)")
