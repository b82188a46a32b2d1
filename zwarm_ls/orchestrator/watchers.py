"""Watchers: small supervisors that look at the run before each orchestrator step and
either nudge the model (a `[watcher: name]` message) or stop the run.

Each verdict carries a key naming the trigger (this streak of repeated calls, this budget
threshold, this bash command). A key nudges once; the same trigger does not nudge again
on later steps, unlike zwarm, which appended the same nudge on every step.

Configured in `.zwarm/config.toml`:

    [watchers]
    enabled = true
    [[watchers.watchers]]
    name = "budget"
    config = { max_sessions = 6, max_cost_usd = 2.5 }
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from ..config import WatchersConfig
from ..protocol import SessionSummary, TokenUsage
from .history import ToolCall

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


class Watcher:
    name = "?"

    def __init__(self, **config: Any):
        self.config = config

    def check(self, state: RunState) -> list[Verdict]:
        raise NotImplementedError


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


WATCHERS: dict[str, type[Watcher]] = {
    w.name: w for w in (ProgressWatcher, BudgetWatcher, DelegationWatcher,
                        DelegationReminderWatcher)
}


class WatcherManager:
    def __init__(self, config: WatchersConfig):
        self.watchers: list[Watcher] = []
        self.warnings: list[str] = []
        self.fired: set[str] = set()
        if not config.enabled:
            return
        for spec in config.watchers:
            if not spec.enabled:
                continue
            cls = WATCHERS.get(spec.name)
            if cls is None:
                self.warnings.append(f"unknown watcher '{spec.name}' ignored (known: "
                                     f"{', '.join(WATCHERS)})")
                continue
            self.watchers.append(cls(**spec.config))
        for warning in self.warnings:
            log.warning("%s", warning)

    def observe(self, state: RunState) -> list[Verdict]:
        """New verdicts only, stops first. A watcher that raises is logged and skipped."""
        fresh: list[Verdict] = []
        for watcher in self.watchers:
            try:
                verdicts = watcher.check(state)
            except Exception:
                log.exception("watcher %s failed", watcher.name)
                continue
            for verdict in verdicts:
                verdict.watcher = watcher.name
                key = f"{watcher.name}:{verdict.key}"
                if key not in self.fired:
                    self.fired.add(key)
                    fresh.append(verdict)
        return sorted(fresh, key=lambda v: v.action != "stop")
