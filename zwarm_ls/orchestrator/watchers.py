"""Watchers: small supervisors that look at the run before each orchestrator step and
either nudge the model (a `[watcher: name]` message) or stop the run.

Each verdict carries a key naming the trigger (this streak of repeated calls, this budget
threshold, this bash command). A key nudges once; the same trigger does not nudge again
on later steps, unlike zwarm, which appended the same nudge on every step.

Configured in `.zwarm/config.toml`:

    [watchers]
    enabled = true
    message_role = "developer"        # how nudges reach the model: user, system, developer
    [[watchers.watchers]]
    name = "budget"
    config = { max_sessions = 6, max_cost_usd = 2.5 }
    [[watchers.watchers]]
    name = "pattern"
    config = { patterns = [{ regex = "rate limit" }], scope = { adapter = "claude" } }

Every watcher's config may add `scope` (the sessions it looks at: `adapter`, `model`,
`task` (a regex on the session's task) and `sessions` (id prefixes); every key given must
match) and `paused = true` (loaded but silent until resumed). The orchestrator can pause
a nudging watcher for some steps with its `pause_watcher` tool (budget and quality cannot
be paused). What fired, the pauses, the judge's spending and the pattern watcher's place
in each session are saved with the run, so a resumed run carries on where it was.

Built in: progress, budget, delegation, delegation_reminder, pattern, scope (zwarm's
avoid_keywords), llm (an LLM judge with a budget), quality (a verification command that
must pass before exit).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import re
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..config import OrchestratorConfig, WatchersConfig
from ..costs import estimate_cost
from ..errors import ZwarmError
from ..protocol import SessionSummary, Step, TokenUsage
from ..text import clip
from .history import NUDGE_ROLES, Item, NudgeRole, ToolCall, user
from .llm import LLMClient

log = logging.getLogger(__name__)

# Tools that count as supervising delegated work (the delegation reminder resets on them).
# zwarm left out sleep, peek and get_trajectory, so ordinary waiting looked like idling.
DELEGATION_ACTIVITY = frozenset({
    "delegate", "converse", "check_session", "end_session", "list_sessions", "chat",
    "sleep", "wait_for_sessions", "peek_session", "get_trajectory", "exit",
})
# Tools whose calls show the run moving forward (for the stall check).
PROGRESS_TOOLS = frozenset({"delegate", "converse", "end_session", "bash", "chat", "exit"})
# Waiting again with the same arguments is how a long session is waited for.
WAITING_TOOLS = frozenset({"sleep", "wait_for_sessions"})


@dataclass
class Verdict:
    action: Literal["nudge", "stop"]
    key: str
    message: str
    watcher: str = ""


@dataclass
class RunState:
    """What the watchers see: the run so far, as the loop recorded it."""

    step: int  # steps completed
    max_steps: int
    calls: list[list[ToolCall]]  # the tool calls of each completed step
    usage: TokenUsage = field(default_factory=TokenUsage)
    cost_usd: float = 0.0  # the orchestrator's LLM calls plus its sessions
    sessions: list[SessionSummary] = field(default_factory=list)  # sessions this run started
    last_progress_step: int = 0  # the last step that delegated, verified or saw a finish
    task: str = ""
    # A session's steps from an index on (what the pattern watcher reads).
    read_steps: Callable[[str, int], list[Step]] | None = None
    items: list[Item] = field(default_factory=list)  # the orchestrator's history


class Watcher:
    name = "?"
    pausable = True  # whether pause_watcher may silence it

    def __init__(self, **config: Any):
        self.config = config

    def check(self, state: RunState) -> list[Verdict]:
        raise NotImplementedError

    async def acheck(self, state: RunState) -> list[Verdict]:
        return self.check(state)

    def state(self) -> dict[str, Any]:
        """What a resumed run needs to carry on (saved with the run)."""
        return {}

    def restore(self, data: dict[str, Any]) -> None:
        return None


def _signature(call: ToolCall) -> str:
    return f"{call.name}:{json.dumps(call.parsed_arguments(), sort_keys=True)}"


class ProgressWatcher(Watcher):
    """Repeating the same call, or many steps in which nothing moves."""

    name = "progress"

    def check(self, state: RunState) -> list[Verdict]:
        verdicts: list[Verdict] = []
        same = int(self.config.get("max_same_calls", 3))
        flat = [(i, c) for i, calls in enumerate(state.calls, 1) for c in calls]
        if len(flat) >= same:
            tail = flat[-same:]
            sig = _signature(tail[-1][1])
            if tail[-1][1].name not in WAITING_TOOLS and all(_signature(c) == sig for _, c in tail):
                start = len(flat) - same
                while start > 0 and _signature(flat[start - 1][1]) == sig:
                    start -= 1
                verdicts.append(Verdict(
                    "nudge", f"repeat:{flat[start][0]}:{sig}",
                    f"You have called {tail[-1][1].name} with the same arguments {same} times "
                    "in a row. The answer will not change: wait for sessions instead of "
                    "polling, or try a different approach."))
        stall = int(self.config.get("stall_steps", 8))
        if state.step - state.last_progress_step >= stall:
            verdicts.append(Verdict(
                "nudge", f"stall:{state.last_progress_step}",
                f"{state.step - state.last_progress_step} steps without delegating, verifying "
                "or a session finishing. Check list_sessions, decide what is blocking, and act "
                "on it (converse, end and restart, or exit with a report)."))
        return verdicts


class BudgetWatcher(Watcher):
    """Steps, sessions, tokens and dollars: a warning near each limit, a stop past it."""

    name = "budget"
    pausable = False  # its stops are the run's limits

    def check(self, state: RunState) -> list[Verdict]:
        warn = float(self.config.get("warn_at_percent", 80)) / 100
        verdicts: list[Verdict] = []
        if state.max_steps and state.step >= warn * state.max_steps:
            left = state.max_steps - state.step
            verdicts.append(Verdict("nudge", "steps", f"{left} of {state.max_steps} steps left. "
                                    "Finish what is running, verify, and exit with a report."))
        max_sessions = self.config.get("max_sessions", 10)
        if max_sessions is not None:
            n = len(state.sessions)
            if n > max_sessions:
                verdicts.append(Verdict("stop", "sessions-over",
                                        f"{n} sessions started; the limit is {max_sessions}"))
            elif n == max_sessions:
                verdicts.append(Verdict("nudge", "sessions", f"{n} sessions started, the "
                                        "limit: start no more; converse with existing ones."))
        verdicts += self._limit(state.usage.total_tokens, self.config.get("max_tokens"),
                                "tokens", "{:.0f} tokens", warn)
        verdicts += self._limit(state.cost_usd, self.config.get("max_cost_usd"),
                                "cost", "${:.2f}", warn)
        return verdicts

    @staticmethod
    def _limit(value: float, limit: float | None, key: str, fmt: str,
               warn: float) -> list[Verdict]:
        if not limit:
            return []
        shown = fmt.format(value)
        if value >= limit:
            return [Verdict("stop", f"{key}-over", f"{shown} used; the limit is "
                            f"{fmt.format(limit)}")]
        if value >= warn * limit:
            return [Verdict("nudge", key, f"{shown} of {fmt.format(limit)} used. Wrap up: "
                            "finish, verify and exit.")]
        return []


CODE_EXT = (r"\.(?:py|pyi|js|jsx|mjs|ts|tsx|go|rs|java|kt|c|cc|cpp|h|hpp|rb|php|swift|cs|"
            r"scala|lua|vue|svelte|sql|sh)\b")
# Each pattern needs a write *and* a code file as its target. zwarm's last pattern was an
# ungrouped alternation (`...|def\s+|class\s+|import\s+`), so any command mentioning
# "import " or "class " counted as writing code; content words alone never match here.
WRITES_CODE = [
    re.compile(r"(?:>>?|\btee\b(?:\s+-a)?)\s*['\"]?[\w./-]+" + CODE_EXT),  # > f.py, tee f.py
    re.compile(r"\bsed\b(?:\s+-\w+)*\s+(?:-i|--in-place)\S*\s.*" + CODE_EXT),  # sed -i … f.py
    re.compile(r"\b(?:perl|ruby)\s+-\w*i\w*\s.*" + CODE_EXT),  # perl -pi -e … f.py
    re.compile(r"\bopen\(\s*['\"][\w./-]+" + CODE_EXT + r"['\"]\s*,\s*['\"][wa]"),  # python -c
    re.compile(r"\.write_text\(|\bwriteFileSync\("),
    re.compile(r"\b(?:git\s+apply|patch\s+-p\d)\b"),
]


def writes_code(command: str) -> bool:
    return any(p.search(command) for p in WRITES_CODE)


class DelegationWatcher(Watcher):
    """Writing code through bash instead of delegating it."""

    name = "delegation"

    def check(self, state: RunState) -> list[Verdict]:
        if not self.config.get("strict", True):
            return []
        verdicts = []
        for step, calls in enumerate(state.calls, 1):
            for call in calls:
                command = str(call.parsed_arguments().get("command", ""))
                if call.name == "bash" and writes_code(command):
                    verdicts.append(Verdict(
                        "nudge", f"bash:{step}:{call.call_id}",
                        "That bash command writes code. Delegate code changes to an executor "
                        "session; use bash only to verify (tests, linters, git diff)."))
        return verdicts


class DelegationReminderWatcher(Watcher):
    """Many steps in a row without touching delegated work."""

    name = "delegation_reminder"

    def check(self, state: RunState) -> list[Verdict]:
        threshold = int(self.config.get("threshold", 10))
        lookback = int(self.config.get("lookback", 30))
        streak = 0
        for calls in reversed(state.calls[-lookback:]):
            if any(c.name in DELEGATION_ACTIVITY for c in calls):
                break
            streak += 1
        if streak < threshold:
            return []
        start = state.step - streak + 1
        return [Verdict("nudge", f"streak:{start}",
                        f"{streak} steps without delegating or supervising sessions. You "
                        "coordinate executors: delegate the work instead of doing it here.")]


class PatternWatcher(Watcher):
    """A regex over what the agents say and do: each new step of a session in scope
    (messages, commands and their output) is matched once; a match nudges, or stops the
    run (`action = "stop"`; zwarm's `pause` and `abort` stop it too, always resumable).

        config = { patterns = [{ regex = "rate limit|429", message = "…", action = "nudge" }] }

    `message` may name `{session}` (short id), `{match}` and `{line}`. A pattern nudges at
    most once per session and turn. `source = "orchestrator"` matches the orchestrator's
    own messages, tool calls and tool results instead (what zwarm's pattern watcher read),
    `source = "all"` both."""

    name = "pattern"
    SOURCES = ("sessions", "orchestrator", "all")

    def __init__(self, **config: Any):
        super().__init__(**config)
        flags = re.IGNORECASE if config.get("ignore_case", True) else 0
        self.patterns: list[tuple[re.Pattern[str], str, Literal["nudge", "stop"]]] = []
        for spec in config.get("patterns") or []:
            spec = {"regex": spec} if isinstance(spec, str) else spec
            action = spec.get("action", "nudge")
            if action not in ("nudge", "stop", "pause", "abort"):
                raise ValueError(f"pattern action '{action}' is not nudge or stop")
            self.patterns.append((re.compile(spec["regex"], flags), str(spec.get("message", "")),
                                  "nudge" if action == "nudge" else "stop"))
        if not self.patterns:
            raise ValueError("no patterns (config = { patterns = [{ regex = '…' }] })")
        self.source = config.get("source", "sessions")
        if self.source not in self.SOURCES:
            raise ValueError(f"source '{self.source}' is not one of {', '.join(self.SOURCES)}")
        self.seen: dict[str, int] = {}  # session id → steps already matched
        self.items_seen = 0  # the orchestrator's history items already matched

    def state(self) -> dict[str, Any]:
        return {"seen": self.seen, "items_seen": self.items_seen}

    def restore(self, data: dict[str, Any]) -> None:
        self.seen = {str(k): int(v) for k, v in (data.get("seen") or {}).items()}
        self.items_seen = int(data.get("items_seen", 0))

    def _match(self, text: str, where: str, session: str, key: str) -> list[Verdict]:
        verdicts = []
        for n, (regex, message, action) in enumerate(self.patterns):
            found = regex.search(text)
            if found is None:
                continue
            line = text[text.rfind("\n", 0, found.start()) + 1:].split("\n", 1)[0]
            shown = clip(line.strip(), 200)
            text_out = (message.replace("{session}", session).replace("{match}", found.group(0))
                        .replace("{line}", shown)) if message else \
                f"{where} matched /{regex.pattern}/: {shown}"
            verdicts.append(Verdict(action, f"{n}:{key}", text_out))
        return verdicts

    async def acheck(self, state: RunState) -> list[Verdict]:
        verdicts: list[Verdict] = []
        if self.source != "orchestrator" and state.read_steps is not None:
            for session in state.sessions:
                steps = await asyncio.to_thread(state.read_steps, session.id,
                                                self.seen.get(session.id, 0))
                self.seen[session.id] = self.seen.get(session.id, 0) + len(steps)
                for step in steps:
                    text = "\n".join(t for t in (step.summary, step.detail) if t)
                    verdicts += self._match(text, f"Session {session.short_id}",
                                            session.short_id, f"{session.id}:{step.turn}")
        if self.source != "sessions":
            fresh = state.items[self.items_seen:]
            for offset, item in enumerate(fresh, self.items_seen):
                if item.role == "assistant" or item.role == "tool":
                    text = "\n".join([item.text, *(f"{c.name} {c.arguments}"
                                                   for c in item.tool_calls),
                                      *(r.output for r in item.results)])
                    verdicts += self._match(text, "The orchestrator", "orchestrator",
                                            f"items:{offset}")
            self.items_seen += len(fresh)
        return verdicts


class ScopeWatcher(Watcher):
    """zwarm's `scope` watcher: a word the task should stay away from (`avoid_keywords`)
    in the orchestrator's recent tool calls nudges it back to the task."""

    name = "scope"

    def check(self, state: RunState) -> list[Verdict]:
        words = [str(w).lower() for w in self.config.get("avoid_keywords") or []]
        window = 2 * int(self.config.get("max_tangent_steps", 3))
        verdicts = []
        for step, calls in list(enumerate(state.calls, 1))[-window:]:
            text = " ".join(f"{c.name} {c.arguments}" for c in calls).lower()
            for word in words:
                if word in text:
                    verdicts.append(Verdict("nudge", f"avoid:{word}:{step}",
                                            f"'{word}' is outside this task's scope. Get "
                                            "back to the task."))
        return verdicts


JUDGE_PROMPT = """\
You review the progress of an orchestrator LLM that delegates a coding task to agent
sessions. Reply with one JSON object and nothing else:
{"status": "ok" | "concern" | "problem", "assessment": "one sentence", "guidance": "what the
orchestrator should do next, one or two sentences"}
Say "ok" unless the run is clearly going wrong: looping, idling, ignoring failed sessions,
doing the work itself instead of delegating, or drifting from the task."""


class LLMWatcher(Watcher):
    """An LLM judge: every `every` steps (zwarm: `threshold`) it reads a digest of the run
    and may nudge. It has a budget, `max_calls` and `max_tokens`, after which it stays
    silent. Its model defaults to the orchestrator's; `provider`, `model`, `base_url` and
    `api_key_env` may point elsewhere (a smaller model); `criteria` adds to its prompt."""

    name = "llm"

    def __init__(self, orchestrator: OrchestratorConfig | None = None, **config: Any):
        super().__init__(**config)
        base = orchestrator or OrchestratorConfig()
        own = {k: config[k] for k in ("provider", "model", "base_url", "api_key_env")
               if config.get(k)}
        self.llm = base.model_copy(update={**own, "stream": False, "reasoning_effort": None,
                                           "max_output_tokens": int(config.get(
                                               "max_output_tokens", 600))})
        self.every = max(1, int(config.get("every", config.get("threshold", 5))))
        self.max_calls = int(config.get("max_calls", 10))
        self.max_tokens = int(config.get("max_tokens", 100_000))
        self.calls = 0
        self.usage = TokenUsage()  # what the judge spent: in the run's cost, for budgets
        self.spent_logged = False
        self.client: LLMClient | None = None

    @property
    def tokens(self) -> int:
        return self.usage.total_tokens

    def cost_usd(self) -> float:
        return estimate_cost(self.llm.model, self.usage) or 0.0

    def state(self) -> dict[str, Any]:
        return {"calls": self.calls, "tokens": self.tokens,
                "usage": self.usage.model_dump(mode="json")}

    def restore(self, data: dict[str, Any]) -> None:
        self.calls = int(data.get("calls", 0))
        self.usage = TokenUsage.model_validate(data.get("usage") or {})

    def budget_left(self) -> bool:
        return self.calls < self.max_calls and self.tokens < self.max_tokens

    async def acheck(self, state: RunState) -> list[Verdict]:
        if state.step == 0 or state.step % self.every:
            return []
        if not self.budget_left():
            if not self.spent_logged:
                self.spent_logged = True
                log.warning("llm watcher: budget spent (%d calls, %d tokens); no more reviews",
                            self.calls, self.tokens)
            return []
        self.calls += 1  # a call that fails counts too: a broken judge is not retried forever
        criteria = self.config.get("criteria")
        system = JUDGE_PROMPT + (f"\nAlso check: {criteria}" if criteria else "")
        try:
            if self.client is None:
                from .providers import make_client  # the providers import the SDKs lazily

                self.client = make_client(self.llm)
            completion = await self.client.complete(system, [user(digest(state))], [])
        except ZwarmError as exc:
            log.warning("llm watcher: the judge could not be asked: %s", exc)
            return []
        self.usage = self.usage.plus(completion.usage)
        verdict = parse_judgement(completion.text)
        if verdict is None or verdict.get("status") not in ("concern", "problem"):
            return []
        advice = str(verdict.get("guidance") or verdict.get("assessment") or "").strip()
        if not advice:
            return []
        return [Verdict("nudge", f"review:{state.step}",
                        f"({verdict['status']}) {advice}")]


def digest(state: RunState) -> str:
    """What the judge reads: the task, the budget, the sessions and the recent calls."""
    lines = [f"Task: {clip(state.task, 2000)}", f"Step {state.step} of {state.max_steps}; "
             f"{state.usage.total_tokens} tokens; ${state.cost_usd:.2f}", "", "Sessions:"]
    lines += [f"- {s.short_id} [{s.status.value}] {clip(s.task, 120)}"
              + (f" → {clip(s.latest_message, 200)}" if s.latest_message else "")
              for s in state.sessions] or ["(none yet)"]
    lines += ["", "Recent tool calls (oldest first):"]
    recent = [(n, c) for n, calls in enumerate(state.calls, 1) for c in calls][-30:]
    lines += [f"[{n}] {c.name}({clip(c.arguments, 160)})" for n, c in recent] or ["(none)"]
    return "\n".join(lines)


def parse_judgement(text: str) -> dict[str, Any] | None:
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end < start:
        return None
    try:
        value = json.loads(text[start:end + 1])
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


class QualityWatcher(Watcher):
    """A verification command that must pass before the orchestrator may finish: `exit`
    runs it, and a failure refuses the exit with the command's output. `command` is an
    argv list, run without a shell in the project (or `cwd` under it); `timeout_s`,
    `max_output_chars`; after `max_failures` refused exits the run stops."""

    name = "quality"
    pausable = False

    def __init__(self, root: Path | None = None, **config: Any):
        super().__init__(**config)
        command = config.get("command")
        if not (isinstance(command, list) and command and all(isinstance(a, str) and a
                                                              for a in command)):
            hint = " (zwarm's require_tests and max_files_changed never ran; they are " \
                   "not supported)" if {"require_tests", "max_files_changed"} & set(config) \
                else ""
            raise ValueError('needs command = ["argv", "list"], run without a shell' + hint)
        self.command: list[str] = command
        base = (root or Path.cwd()).resolve()
        self.cwd = (base / str(config.get("cwd", "."))).resolve()
        if not self.cwd.is_relative_to(base):
            raise ValueError(f"cwd {config.get('cwd')} is outside the project")
        self.timeout_s = float(config.get("timeout_s", 600))
        self.max_output = int(config.get("max_output_chars", 4000))
        self.max_failures = int(config.get("max_failures", 3))
        self.failures = 0

    def check(self, state: RunState) -> list[Verdict]:
        return []

    def state(self) -> dict[str, Any]:
        return {"failures": self.failures}

    def restore(self, data: dict[str, Any]) -> None:
        self.failures = int(data.get("failures", 0))

    async def verify(self) -> str | None:
        """None when the command passes, else what the model is told."""
        shown = " ".join(self.command)
        try:
            proc = await asyncio.create_subprocess_exec(
                *self.command, cwd=self.cwd, stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
                start_new_session=True)
        except OSError as exc:
            self.failures += 1
            return f"`{shown}` could not be started: {exc}"
        try:
            async with asyncio.timeout(self.timeout_s):
                out, _ = await proc.communicate()
        except TimeoutError:
            self.failures += 1
            return f"`{shown}` did not finish within {self.timeout_s:g}s"
        finally:
            if proc.returncode is None:  # timed out or cancelled: the whole group goes
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                await asyncio.shield(proc.wait())
        if proc.returncode == 0:
            return None
        self.failures += 1
        text = out.decode(errors="replace")
        tail = text[-self.max_output:]
        cut = f"[… {len(text) - len(tail)} characters before]\n" if len(tail) < len(text) else ""
        return f"`{shown}` failed (exit {proc.returncode}):\n{cut}{tail}"


WATCHERS: dict[str, type[Watcher]] = {
    w.name: w for w in (ProgressWatcher, BudgetWatcher, DelegationWatcher,
                        DelegationReminderWatcher, PatternWatcher, ScopeWatcher, LLMWatcher,
                        QualityWatcher)
}


def _names(value: Any) -> set[str] | None:
    return None if value is None else {str(x) for x in (value if isinstance(value, list)
                                                         else [value])}


class Scope:
    """Which sessions a watcher looks at; every key given must match."""

    KEYS = ("adapter", "model", "task", "sessions")

    def __init__(self, spec: Any):
        if not isinstance(spec, dict) or set(spec) - set(self.KEYS):
            raise ValueError(f"scope takes a table of {', '.join(self.KEYS)}")
        self.adapters = _names(spec.get("adapter"))
        self.models = _names(spec.get("model"))
        self.prefixes = [str(x) for x in spec.get("sessions") or []]
        self.task = re.compile(spec["task"], re.IGNORECASE) if spec.get("task") else None

    def matches(self, s: SessionSummary) -> bool:
        return ((self.adapters is None or s.adapter in self.adapters)
                and (self.models is None or s.model in self.models)
                and (not self.prefixes or any(s.id.startswith(p) for p in self.prefixes))
                and (self.task is None or bool(self.task.search(s.task))))


class WatcherManager:
    def __init__(self, config: WatchersConfig, orchestrator: OrchestratorConfig | None = None,
                 root: Path | None = None):
        self.watchers: list[Watcher] = []
        self.warnings: list[str] = []
        self.fired: set[str] = set()
        self.scopes: dict[str, Scope] = {}
        self.paused: dict[str, int | None] = {}  # watcher → resumes at this step (None: never)
        self.message_role: NudgeRole = "user"
        if config.message_role in NUDGE_ROLES:
            self.message_role = config.message_role  # type: ignore[assignment]
        else:
            self.warnings.append(f"watchers.message_role '{config.message_role}' is not "
                                 f"supported ({', '.join(NUDGE_ROLES)}); nudges go as user "
                                 "messages")
        if config.enabled:
            for spec in config.watchers:
                if spec.enabled:
                    self._add(spec.name, dict(spec.config), orchestrator, root)
        for warning in self.warnings:
            log.warning("%s", warning)

    def _add(self, name: str, options: dict[str, Any], orchestrator: OrchestratorConfig | None,
             root: Path | None) -> None:
        cls = WATCHERS.get(name)
        if cls is None:
            self.warnings.append(f"unknown watcher '{name}' ignored (known: "
                                 f"{', '.join(WATCHERS)})")
            return
        if any(w.name == name for w in self.watchers):
            self.warnings.append(f"watcher '{name}' is configured twice; the second is "
                                 "ignored (one pattern watcher holds several patterns)")
            return
        scope, paused = options.pop("scope", None), options.pop("paused", False)
        if cls is LLMWatcher:
            options["orchestrator"] = orchestrator
        elif cls is QualityWatcher:
            options["root"] = root
        try:
            watcher = cls(**options)
            if scope is not None:
                self.scopes[name] = Scope(scope)
        except (ValueError, TypeError, KeyError, re.error) as exc:
            self.warnings.append(f"watcher '{name}' ignored: {exc}")
            return
        self.watchers.append(watcher)
        if paused:
            self.paused[name] = None

    def _get(self, name: str) -> Watcher | None:
        return next((w for w in self.watchers if w.name == name), None)

    def is_paused(self, name: str, step: int) -> bool:
        if name not in self.paused:
            return False
        until = self.paused[name]
        if until is not None and step >= until:
            del self.paused[name]  # the pause ran out
            return False
        return True

    def pause(self, name: str, steps: int, step: int) -> str:
        """Silence a nudging watcher for `steps` steps (0: resume it now)."""
        watcher = self._get(name)
        if watcher is None:
            raise ValueError(f"no watcher '{name}' in this run (running: "
                             f"{', '.join(w.name for w in self.watchers) or 'none'})")
        if steps <= 0:
            self.paused.pop(name, None)
            return f"watcher {name} resumed"
        if not watcher.pausable:
            raise ValueError(f"the {name} watcher cannot be paused")
        self.paused[name] = step + steps
        return f"watcher {name} paused until step {step + steps}"

    async def observe(self, state: RunState) -> list[Verdict]:
        """New verdicts only, stops first. A watcher that raises is logged and skipped."""
        fresh: list[Verdict] = []
        for watcher in self.watchers:
            if self.is_paused(watcher.name, state.step):
                continue
            scope = self.scopes.get(watcher.name)
            seen = dataclasses.replace(state, sessions=[
                s for s in state.sessions if scope.matches(s)]) if scope else state
            try:
                verdicts = await watcher.acheck(seen)
            except Exception:
                log.exception("watcher %s failed", watcher.name)
                continue
            for verdict in verdicts:
                verdict.watcher = watcher.name
                key = f"{watcher.name}:{verdict.key}"
                if key not in self.fired:
                    self.fired.add(key)
                    fresh.append(verdict)
            if any(v.action == "stop" for v in fresh):
                break  # the run ends here: the watchers after it (a paid judge) need not look
        return sorted(fresh, key=lambda v: v.action != "stop")

    def cost_usd(self) -> float:
        """What the watchers themselves spent (the LLM judge), part of the run's cost."""
        return sum(w.cost_usd() for w in self.watchers if isinstance(w, LLMWatcher))

    @property
    def gated(self) -> bool:
        """Whether exit has to pass a quality check."""
        return any(isinstance(w, QualityWatcher) for w in self.watchers)

    async def gate(self) -> tuple[str | None, bool]:
        """Before the run may finish: (why not, or None; whether to stop trying)."""
        for watcher in self.watchers:
            if isinstance(watcher, QualityWatcher):
                failure = await watcher.verify()
                if failure is not None:
                    return failure, watcher.failures >= watcher.max_failures
        return None, False

    def snapshot(self) -> dict[str, Any]:
        return {"fired": sorted(self.fired), "paused": dict(self.paused),
                "watchers": {w.name: w.state() for w in self.watchers}}

    def restore(self, data: dict[str, Any]) -> None:
        self.fired = set(data.get("fired") or [])
        self.paused.update({k: v for k, v in (data.get("paused") or {}).items()
                            if self._get(k) is not None})
        for watcher in self.watchers:
            watcher.restore((data.get("watchers") or {}).get(watcher.name) or {})
