"""`zwarm-ls interactive`: a REPL for the session verbs, as zwarm's `interactive` was.

It is a client of the same in-process SessionService as the other CLI verbs: it parses
what was typed, calls the service and draws the answer with render.py. Sessions run in
their own detached runners, so leaving the REPL leaves them running.

    spawn "task" [--model M] [--adapter A] [--dir D] [--isolation worktree|inplace]
    ls | peek ID | show ID [--all] | traj ID [--full] | watch [ID…]
    c|continue ID "message" | kill ID|all | rm ID|all | models | !command | help | quit
"""

from __future__ import annotations

import asyncio
import shlex
import subprocess
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from prompt_toolkit import PromptSession, print_formatted_text
from prompt_toolkit.application import Application
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.history import FileHistory
from prompt_toolkit.key_binding import KeyBindings
from prompt_toolkit.layout import Layout, Window
from prompt_toolkit.layout.controls import FormattedTextControl
from prompt_toolkit.patch_stdout import patch_stdout

from . import models
from .admin_cli import kill
from .errors import InvalidParams, ZwarmError
from .protocol import (
    ConverseParams,
    DelegateParams,
    EndParams,
    ListParams,
    SessionRef,
    SessionUpdated,
    TrajectoryParams,
)
from .render import (
    SESSION_COLUMNS,
    STATUS_ICONS,
    first_line,
    format_conversation,
    format_live,
    format_model_rows,
    format_session,
    format_step,
)
from .service import SessionService

PROMPT = "zwarm> "
MULTILINE = '"""'
ID_COMMANDS = {"peek", "?", "show", "traj", "watch", "c", "continue", "kill", "rm", "logs"}
ALL_COMMANDS = {"kill", "rm"}
OPTION_VALUES = {"--model": "model", "-m": "model", "--adapter": "adapter", "-a": "adapter",
                 "--dir": "dir", "-d": "dir", "--isolation": "isolation"}
OPTION_FLAGS = {"--full": "full", "--all": "all", "-v": "all"}


class Usage(InvalidParams):
    """What was typed does not parse; the message says how to type it."""


@dataclass
class Parsed:
    words: list[str]
    options: dict[str, str]
    flags: set[str]


def parse(tokens: list[str]) -> Parsed:
    """Positional words, `--opt value` options and `--flag`s; an option we do not know is
    an error, not text folded into the task (as zwarm did with `--search`)."""
    words: list[str] = []
    options: dict[str, str] = {}
    flags: set[str] = set()
    it = iter(tokens)
    for token in it:
        if token in OPTION_VALUES:
            value = next(it, None)
            if value is None:
                raise Usage(f"{token} needs a value")
            options[OPTION_VALUES[token]] = value
        elif token in OPTION_FLAGS:
            flags.add(OPTION_FLAGS[token])
        elif token.startswith("-") and len(token) > 1 and not token[1:].isdigit():
            raise Usage(f"unknown option {token}", hint="type help for the commands")
        else:
            words.append(token)
    return Parsed(words, options, flags)


def join_multiline(text: str) -> str:
    """`spawn \"\"\"two\nlines\"\"\"` → one shell-quoted word, so shlex keeps it whole."""
    parts = text.split(MULTILINE)
    return "".join(shlex.quote(p) if i % 2 else p for i, p in enumerate(parts))


class ReplCompleter(Completer):
    """Commands, then session ids (with their status and task), models and adapters."""

    def __init__(self, repl: Repl):
        self.repl = repl

    def get_completions(self, document: Document,
                        complete_event: CompleteEvent) -> Iterable[Completion]:
        text = document.text_before_cursor
        words = text.split()
        current = "" if text.endswith(" ") or not words else words[-1]
        before = words if text.endswith(" ") else words[:-1]
        if not before:
            for name in sorted(self.repl.commands):
                if name.startswith(current):
                    yield Completion(name + " ", -len(current), display=name,
                                     display_meta=self.repl.help[name])
            return
        if before[-1] in ("--model", "-m"):
            for m in models.MODELS:
                for name in m.names:
                    if name.startswith(current):
                        yield Completion(name + " ", -len(current), display=name,
                                         display_meta=m.adapter)
            return
        if before[-1] in ("--adapter", "-a"):
            yield from (Completion(a + " ", -len(current), display=a)
                        for a in models.ADAPTERS if a.startswith(current))
            return
        if before[0] in ID_COMMANDS:
            if before[0] in ALL_COMMANDS and "all".startswith(current):
                yield Completion("all ", -len(current), display="all",
                                 display_meta="every session")
            for s in self.repl.service.index.summaries():
                if s.short_id.startswith(current):
                    yield Completion(s.short_id + " ", -len(current), display=s.short_id,
                                     display_meta=f"{s.status}: {first_line(s.task, 30)}")


Handler = Callable[[Parsed], Awaitable[None]]


class Repl:
    def __init__(self, service: SessionService, root: Path):
        self.service = service
        self.root = root
        table: list[tuple[list[str], Handler, str]] = [
            (["spawn"], self.spawn, "start a session: spawn \"task\" [--model M]"),
            (["ls", "list"], self.ls, "list sessions"),
            (["peek", "?"], self.peek, "status and latest message of a session"),
            (["show"], self.show, "a session's answer (--all: every turn)"),
            (["traj"], self.traj, "a session's steps (--full: with output)"),
            (["watch"], self.watch, "live view of running sessions (q to leave)"),
            (["c", "continue"], self.converse, "send a finished session a message"),
            (["kill"], self.kill, "stop a session, or all"),
            (["rm"], self.remove, "delete a finished session, or all"),
            (["models"], self.models, "the known models"),
            (["help", "h"], self.show_help, "this list"),
        ]
        self.commands: dict[str, Handler] = {}
        self.help: dict[str, str] = {}
        for names, handler, text in table:
            for name in names:
                self.commands[name] = handler
                self.help[name] = text
        self._order = [(names, text) for names, _, text in table]
        self._seen: dict[str, tuple[int, bool]] = {}

    def say(self, text: str = "") -> None:
        print_formatted_text(text)

    # ----- the loop -----------------------------------------------------------------------

    async def run(self) -> int:
        history = self.service.config.zwarm_dir / "zwarm-ls" / "repl_history"
        history.parent.mkdir(parents=True, exist_ok=True)
        session: PromptSession[str] = PromptSession(
            history=FileHistory(str(history)), completer=ReplCompleter(self),
            complete_while_typing=False)
        self._seen = {s.id: (s.turn, s.status.is_active)
                      for s in self.service.index.summaries()}
        unsubscribe = self.service.subscribe(self._announce)
        self.say("zwarm-ls interactive: type help for the commands, quit to leave "
                 "(sessions keep running)")
        try:
            with patch_stdout():
                while True:
                    try:
                        line = await session.prompt_async(PROMPT)
                        while line.count(MULTILINE) % 2:
                            line += "\n" + await session.prompt_async("... ")
                    except KeyboardInterrupt:
                        self.say("(Ctrl-C) type quit to leave")
                        continue
                    except EOFError:
                        break
                    if not await self.handle(line):
                        break
        finally:
            unsubscribe()
        running = [s for s in self.service.index.summaries() if s.status.is_active]
        if running:
            self.say(f"{len(running)} session(s) still running; they go on without this REPL")
        return 0

    async def handle(self, line: str) -> bool:
        """Run one line; False to leave."""
        text = line.strip()
        if not text:
            return True
        if text.startswith("!"):
            await self.shell(text[1:])
            return True
        try:
            tokens = shlex.split(join_multiline(text))
        except ValueError as exc:
            self.say(f"error: {exc}")
            return True
        name, rest = tokens[0], tokens[1:]
        if name in ("quit", "exit", "q"):
            return False
        handler = self.commands.get(name)
        if handler is None:
            self.say(f"error: unknown command '{name}' (type help)")
            return True
        try:
            await handler(parse(rest))
        except ZwarmError as exc:
            self.say(f"error: {exc}")
        return True

    def _announce(self, update: SessionUpdated) -> None:
        """A line when a session this REPL saw running has finished."""
        s = update.session
        before = self._seen.get(s.id)
        self._seen[s.id] = (s.turn, s.status.is_active)
        if update.removed or s.status.is_active or before is None or before == (s.turn, False):
            return
        tail = f": {first_line(s.error, 80)}" if s.error else ""
        self.say(f"{STATUS_ICONS.get(s.status, '?')} session {s.short_id} {s.status}{tail}")

    # ----- commands -----------------------------------------------------------------------

    @staticmethod
    def _one_id(p: Parsed, usage: str) -> str:
        if len(p.words) != 1:
            raise Usage(f"usage: {usage}")
        return p.words[0]

    async def spawn(self, p: Parsed) -> None:
        task = " ".join(p.words)
        if not task.strip():
            raise Usage('usage: spawn "task" [--model M] [--adapter A] [--dir D]')
        adapter, model = models.resolve(p.options.get("model"), p.options.get("adapter"))
        result = await self.service.delegate(DelegateParams(
            task=task, adapter=adapter, model=model, working_dir=p.options.get("dir"),
            isolation=p.options.get("isolation")))  # type: ignore[arg-type]
        self.say(f"session {result.short_id} started ({result.adapter}/{result.model}, "
                 f"{result.isolation})")

    async def ls(self, p: Parsed) -> None:
        page = self.service.list_page(ListParams())
        c = page.counts
        self.say(f"{c.total} sessions: {c.running} running, {c.completed} completed, "
                 f"{c.failed} failed, {c.killed} killed")
        if page.rows:
            self.say(SESSION_COLUMNS)
        for s in page.summaries:
            self.say(format_session(s))

    async def peek(self, p: Parsed) -> None:
        r = await self.service.peek(SessionRef(session_id=self._one_id(p, "peek ID")))
        self.say(f"{r.short_id} {r.status}" + (f" — {r.activity}" if r.activity else ""))
        self.say(first_line(r.latest_message or "(no message yet)", 300))

    async def show(self, p: Parsed) -> None:
        r = await self.service.check(SessionRef(session_id=self._one_id(p, "show ID [--all]")))
        self.say(f"{r.short_id} {r.status} {r.adapter}/{r.model} turn {r.turn}")
        self.say(f"task: {r.task}")
        if r.error:
            self.say(f"error: {r.error}")
        if "all" in p.flags:
            self.say("\n".join(format_conversation(
                self.service.index.meta(r.session_id).messages)))
        else:
            self.say(r.response or "(no response yet)")

    async def traj(self, p: Parsed) -> None:
        r = await self.service.trajectory(TrajectoryParams(
            session_id=self._one_id(p, "traj ID [--full]"), full="full" in p.flags))
        for step in r.steps:
            self.say(format_step(step, "full" in p.flags))

    async def watch(self, p: Parsed) -> None:
        """Redraw the sessions' lines on every update until they have all finished, or
        the user presses q, Esc or Ctrl-C."""
        svc = self.service
        ids = [svc.resolve(w) for w in p.words] or \
            [s.id for s in svc.index.summaries() if s.status.is_active]
        if not ids:
            self.say("nothing is running (watch ID follows one session)")
            return

        def text() -> str:
            return "\n".join(format_live([svc.index.summary(i) for i in ids])) + \
                "\n(q to stop watching)"

        keys = KeyBindings()

        @keys.add("q")
        @keys.add("escape")
        @keys.add("c-c")
        def _leave(event: object) -> None:
            app.exit()

        app: Application[None] = Application(
            layout=Layout(Window(FormattedTextControl(text))), key_bindings=keys,
            full_screen=False)

        def on_update(update: SessionUpdated) -> None:
            if update.session.id in ids:
                app.invalidate()
                if not any(svc.index.summary(i).status.is_active for i in ids):
                    app.exit()

        unsubscribe = svc.subscribe(on_update)
        try:
            if any(svc.index.summary(i).status.is_active for i in ids):
                await app.run_async()
        finally:
            unsubscribe()
        self.say("\n".join(format_live([svc.index.summary(i) for i in ids])))

    async def converse(self, p: Parsed) -> None:
        if len(p.words) < 2:
            raise Usage('usage: continue ID "message"')
        r = await self.service.converse(ConverseParams(session_id=p.words[0],
                                                       message=" ".join(p.words[1:])))
        self.say(f"session {r.session_id[:8]} turn {r.turn} started")

    async def kill(self, p: Parsed) -> None:
        every = p.words == ["all"]
        if not p.words:
            raise Usage("usage: kill ID… | kill all")
        ended, strays = await kill(self.service, None if every else p.words,
                                   reason="killed from the REPL")
        for e in ended:
            self.say(f"{e.session_id[:8]} {e.status}" + ("" if e.was_running
                                                        else " (was not running)"))
        if every:
            self.say(f"killed {sum(e.was_running for e in ended)} running session(s)"
                     + (f" and {strays} stray process(es)" if strays else ""))

    async def remove(self, p: Parsed) -> None:
        if not p.words:
            raise Usage("usage: rm ID… | rm all")
        svc = self.service
        ids = [s.id for s in svc.index.summaries() if not s.status.is_active] \
            if p.words == ["all"] else [svc.resolve(w) for w in p.words]
        for session_id in ids:
            if svc.index.summary(session_id).status.is_active:
                self.say(f"{session_id[:8]} is running: kill it first")
                continue
            await svc.end(EndParams(session_id=session_id, delete=True))
            self.say(f"{session_id[:8]} deleted")

    async def models(self, p: Parsed) -> None:
        self.say("\n".join(format_model_rows(list(models.MODELS))))

    async def show_help(self, p: Parsed) -> None:
        for names, text in self._order:
            self.say(f"  {' | '.join(names):<14} {text}")
        self.say('  !command       run a shell command in the project\n'
                 '  quit | exit    leave (sessions keep running)\n'
                 '  """…"""        text over several lines')

    async def shell(self, command: str) -> None:
        """The user's own shell command, typed after `!` (never task text)."""
        if not command.strip():
            return
        proc = await asyncio.to_thread(subprocess.run, command, shell=True, cwd=self.root,
                                       capture_output=True, text=True, check=False)
        if proc.stdout:
            self.say(proc.stdout.rstrip("\n"))
        if proc.stderr:
            self.say(proc.stderr.rstrip("\n"))
        if proc.returncode:
            self.say(f"(exit {proc.returncode})")
