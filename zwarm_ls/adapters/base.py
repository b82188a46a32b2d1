"""What every agent CLI adapter provides, and the parser state they share.

An adapter owns everything specific to one CLI: its command line, how its JSONL events
map to trajectory steps, how a turn's outcome is decided, and how a conversation is
resumed. Adding a third CLI means adding one module next to codex.py and claude.py.
"""

from __future__ import annotations

import json
import os
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, NonNegativeInt, ValidationError

from ..config import AdapterConfig
from ..protocol import FileTouch, StepKind, TokenUsage
from ..text import clip

MAX_RAW_DETAIL = 20_000  # of a line that could not be read, kept in the error step


@dataclass
class StepDraft:
    """A step as a parser produces it; the index adds index, turn and timestamp."""

    kind: StepKind
    summary: str
    detail: str | None = None
    files: list[FileTouch] | None = None
    exit_code: int | None = None
    ts: str | None = None


@dataclass
class TurnState:
    """Everything a parser has learned from one turn's events so far."""

    resume_id: str | None = None
    usage: TokenUsage = field(default_factory=TokenUsage)
    reported_cost: float | None = None
    messages: list[str] = field(default_factory=list)
    # "completed" / "failed" once the CLI has said how the turn ended.
    outcome: str | None = None
    fatal_error: str | None = None
    last_error: str | None = None
    activity: str | None = None
    malformed_lines: int = 0
    tool_names: dict[str, str] = field(default_factory=dict)
    # Ids of model calls whose usage is already in `usage` (Claude repeats a call's usage
    # on every content block of it), until the run's own total replaces the sum.
    counted_calls: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Outcome:
    status: str  # completed | failed | killed
    error: str | None = None


class Adapter(ABC):
    name: str
    default_model: str
    binary: str
    # True when the CLI reports usage as a running total for a resumed conversation.
    cumulative_usage: bool = False

    @abstractmethod
    def command(self, cfg: AdapterConfig, *, model: str, working_dir: str,
                resume_id: str | None) -> list[str]:
        """argv for one turn; the prompt always travels on stdin, never on argv."""

    @abstractmethod
    def parse_event(self, event: dict[str, Any], state: TurnState) -> list[StepDraft]:
        """Update `state` from one JSONL event and return the steps it represents."""

    @abstractmethod
    def outcome(self, state: TurnState, exit_code: int | None) -> Outcome:
        """How a turn ended, from its events and the CLI's exit code."""

    def env(self, cfg: AdapterConfig) -> dict[str, str]:
        return {**os.environ, **{k: str(v) for k, v in cfg.env.items()}}

    def parse_line(self, line: bytes, state: TurnState) -> list[StepDraft]:
        """Parse one raw line; malformed lines are counted and skipped, never fatal."""
        text = line.strip()
        if not text:
            return []
        try:
            event = json.loads(text)
        except (ValueError, UnicodeDecodeError):
            state.malformed_lines += 1
            return []
        if not isinstance(event, dict):
            state.malformed_lines += 1
            return []
        try:
            return self.parse_event(event, state)
        except Exception as exc:  # valid JSON of an unexpected shape: record it, go on
            state.malformed_lines += 1
            detail = text.decode("utf-8", errors="replace")
            return [StepDraft("error", clip(f"unreadable {event.get('type', '?')} event from "
                                            f"the agent ({type(exc).__name__}: {exc})"),
                              detail=detail[:MAX_RAW_DETAIL])]


class UsageCounts(BaseModel):
    """Token counts as a CLI reports them, validated: a count that is not a whole
    non-negative number (`"12k"`) makes the usage unreadable rather than guessed."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)

    input_tokens: NonNegativeInt = 0
    cached_input_tokens: NonNegativeInt = 0
    cache_read_input_tokens: NonNegativeInt = 0
    cache_creation_input_tokens: NonNegativeInt = 0
    output_tokens: NonNegativeInt = 0
    reasoning_output_tokens: NonNegativeInt = 0


def read_usage(raw: Any, event: dict[str, Any]) -> tuple[UsageCounts | None, StepDraft | None]:
    """The usage of `event`, or an error step holding the event verbatim when it cannot be
    read. The event's other news (the turn completed, its cost) stays valid either way."""
    try:
        return UsageCounts.model_validate(raw if raw is not None else {}), None
    except ValidationError as exc:
        reason = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'usage'}: {e['msg']}"
                           for e in exc.errors()[:3])
        return None, StepDraft("error", clip(f"unreadable usage in {event.get('type', '?')} "
                                             f"event from the agent ({reason})"),
                               detail=json.dumps(event)[:MAX_RAW_DETAIL])


def raw_step(event: dict[str, Any]) -> StepDraft:
    """An event the parser does not understand, kept verbatim."""
    return StepDraft("raw", clip(f"[{event.get('type', '?')}] event"), detail=json.dumps(event))


def whole_file_range(text: str) -> dict[str, Any]:
    lines = text.split("\n")
    return {"start": {"line": 0, "character": 0},
            "end": {"line": max(len(lines) - 1, 0), "character": len(lines[-1])}}
