"""The pilot: a conversation in which the user gives waypoints and the LLM dispatches and
supervises sessions until it has an answer.

Every turn ends as a checkpoint (`T1`, `T2`, …) holding the whole history up to it. They
live in `.zwarm/pilot/<pilot_id>/checkpoints.json`, written atomically after each turn,
so a restarted daemon carries on where it was. `goto` moves the current position back;
the next turn then drops the later checkpoints and starts a new branch from there.
Executor sessions and files are not rolled back, and the pilot is told about that.

A turn ends when the model replies without tool calls (not on any text, as in zwarm, which
could end a turn with tool calls still unanswered), or after `max_steps_per_turn` steps.
A turn whose LLM call fails records no checkpoint: the pilot stays where it was.
"""

from __future__ import annotations

import logging
from pathlib import Path

from pydantic import BaseModel, Field

from ..config import Config
from ..costs import estimate_cost
from ..errors import InvalidParams
from ..models import lookup
from ..protocol import (
    CheckpointInfo,
    Model,
    PilotGotoResult,
    PilotHistoryResult,
    PilotResult,
    RunTrajectoryResult,
    Step,
    TokenUsage,
)
from ..service import SessionService
from ..store import now_iso, read_json, write_json_atomic
from ..text import clip
from .agent import Agent, StepLog, StepSink
from .history import Item, user
from .llm import LLMClient, TextSink
from .prompts import pilot_prompt
from .providers import ReasoningEffort, make_client
from .tools import Toolbox, ToolContext, UserChannel, build_tools

log = logging.getLogger(__name__)

ROOT = "root"
TIME_TRAVEL_NOTE = ("[note: the user went back to checkpoint {label}; later turns were "
                    "discarded. Sessions and files changed after {label} still exist.]")


class Checkpoint(BaseModel):
    label: str
    instruction: str
    reply: str
    items: list[Item]
    steps: list[Step]
    step_count: int  # model steps in the branch up to and including this turn
    usage: TokenUsage = Field(default_factory=TokenUsage)
    sessions: list[str] = Field(default_factory=list)
    created_at: str = Field(default_factory=now_iso)
    stopped_by: str | None = None


class PilotStatus(Model):
    """Where a pilot conversation stands: what `:status` shows."""

    pilot_id: str
    current: str
    checkpoints: int
    step_count: int
    provider: str
    model: str
    reasoning_effort: str | None = None
    usage: TokenUsage
    cost_usd: float | None = None
    context_window: int | None = None  # of the model, when the table knows it
    history_chars: int  # what the next call sends, before trimming …
    max_context_chars: int  # … to this
    sessions: list[str]


class PilotState(BaseModel):
    pilot_id: str
    created_at: str = Field(default_factory=now_iso)
    updated_at: str = Field(default_factory=now_iso)
    current: int = 0  # 0 = root (empty history), n = checkpoint T<n>
    next_step_index: int = 0
    checkpoints: list[Checkpoint] = Field(default_factory=list)
    # Set by goto: the next turn starts with a note about the jump.
    pending_note: str | None = None


def pilot_path(config: Config, pilot_id: str) -> Path:
    return config.zwarm_dir / "pilot" / pilot_id / "checkpoints.json"


def parse_label(label: str, count: int) -> int:
    """'T3', 't3', '3' → 3; 'root' or 'T0' → 0; anything else is a clear error."""
    text = label.strip().lower()
    if text == ROOT:
        return 0
    number = text[1:] if text.startswith("t") else text
    if not number.isdigit() or int(number) > count:
        raise InvalidParams(f"no checkpoint '{label}'",
                            hint=f"use root or T1…T{count}" if count else "there are no "
                            "checkpoints yet; use root")
    return int(number)


class Pilot:
    def __init__(self, service: SessionService, pilot_id: str = "default", *,
                 client: LLMClient | None = None, user_channel: UserChannel | None = None,
                 on_steps: StepSink | None = None, on_text: TextSink | None = None,
                 reasoning_effort: ReasoningEffort | None = None):
        self.service = service
        self.pilot_id = pilot_id
        self.reasoning_effort = reasoning_effort
        self.path = pilot_path(self.config, pilot_id)
        self.client = client
        self.user_channel = user_channel
        self.on_steps = on_steps
        self.on_text = on_text
        self.state = self._load()

    @property
    def config(self) -> Config:
        return self.service.config  # read each time: the editor may change settings

    def _load(self) -> PilotState:
        data = read_json(self.path)
        if data is None:
            return PilotState(pilot_id=self.pilot_id)
        return PilotState.model_validate(data)

    def save(self) -> None:
        self.state.updated_at = now_iso()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(self.path, self.state.model_dump(mode="json"))

    def label(self, n: int) -> str:
        return f"T{n}" if n else ROOT

    # ----- a turn -------------------------------------------------------------------------

    async def send(self, message: str) -> PilotResult:
        state = self.state
        base = state.checkpoints[state.current - 1] if state.current else None
        cfg = self.config.orchestrator
        ctx = ToolContext(service=self.service, config=cfg, source=f"pilot:{self.pilot_id}",
                          sessions=list(base.sessions) if base else [])
        if self.user_channel is not None:
            ctx.user = self.user_channel
        toolbox = Toolbox(ctx, build_tools(self.config.daemon.default_adapter, False))
        steps = StepLog(start=state.next_step_index, sink=self.on_steps)
        client = self.client or make_client(cfg, self.reasoning_effort)
        agent = Agent(client, toolbox, pilot_prompt(self.config),
                      [*base.items] if base else [], steps, cfg.max_context_chars, self.on_text)
        turn = state.current + 1
        if state.pending_note:
            agent.items.append(user(state.pending_note, tag="note"))
        agent.add_user(message, "message", turn)
        await steps.flush()
        reply, stopped_by, used = await self._drive(agent, turn, cfg.max_steps_per_turn)
        checkpoint = Checkpoint(
            label=f"T{turn}", instruction=message, reply=reply, items=agent.items,
            steps=steps.steps, step_count=(base.step_count if base else 0) + used,
            usage=(base.usage if base else TokenUsage()).plus(agent.usage),
            sessions=list(ctx.sessions), stopped_by=stopped_by)
        # Branching: whatever came after the current checkpoint is replaced by this turn.
        state.checkpoints = [*state.checkpoints[:state.current], checkpoint]
        state.current = turn
        state.next_step_index = steps.next_index
        state.pending_note = None
        self.save()
        return PilotResult(pilot_id=self.pilot_id, checkpoint=checkpoint.label, reply=reply,
                           steps=steps.steps, stopped_by=stopped_by)

    @staticmethod
    async def _drive(agent: Agent, turn: int, max_steps: int) -> tuple[str, str | None, int]:
        """Step until a reply without tool calls; (reply, stopped_by, steps used)."""
        last_text = ""
        for used in range(1, max_steps + 1):
            completion = await agent.step(turn)
            last_text = completion.text or last_text
            if not completion.tool_calls:
                return completion.text, None, used
        note = f"(stopped after {max_steps} steps without a final reply)"
        return f"{last_text}\n\n{note}".strip(), "max_steps_per_turn", max_steps

    # ----- history and time travel --------------------------------------------------------

    def history(self) -> PilotHistoryResult:
        infos = [CheckpointInfo(label=c.label, instruction=clip(c.instruction, 200),
                                reply=clip(c.reply, 200), step_count=c.step_count,
                                created_at=c.created_at, current=(i + 1 == self.state.current))
                 for i, c in enumerate(self.state.checkpoints)]
        return PilotHistoryResult(pilot_id=self.pilot_id, current=self.label(self.state.current),
                                  checkpoints=infos)

    def status(self) -> PilotStatus:
        cfg = self.config.orchestrator
        current = self.state.checkpoints[self.state.current - 1] if self.state.current else None
        usage = current.usage if current else TokenUsage()
        info = lookup(cfg.model)
        items = current.items if current else []
        return PilotStatus(
            pilot_id=self.pilot_id, current=self.label(self.state.current),
            checkpoints=len(self.state.checkpoints),
            step_count=current.step_count if current else 0, provider=cfg.provider,
            model=cfg.model, reasoning_effort=self.reasoning_effort or cfg.reasoning_effort,
            usage=usage,
            cost_usd=estimate_cost(cfg.model, usage),
            context_window=info.context_window if info else None,
            history_chars=sum(len(i.model_dump_json()) for i in items),
            max_context_chars=cfg.max_context_chars,
            sessions=list(current.sessions) if current else [])

    def goto(self, label: str) -> PilotGotoResult:
        target = parse_label(label, len(self.state.checkpoints))
        self.state.current = target
        self.state.pending_note = TIME_TRAVEL_NOTE.format(label=self.label(target)) \
            if target < len(self.state.checkpoints) else None
        self.save()
        later = [c.label for c in self.state.checkpoints[target:]]
        return PilotGotoResult(pilot_id=self.pilot_id, current=self.label(target), later=later)

    def trajectory(self, since_index: int = 0) -> RunTrajectoryResult:
        branch = self.state.checkpoints[:self.state.current]
        steps = [s for c in branch for s in c.steps if s.index >= since_index]
        return RunTrajectoryResult(
            run_id=self.pilot_id, kind="pilot", status="running",
            task=branch[0].instruction if branch else "", steps=steps,
            next_index=steps[-1].index + 1 if steps else since_index)
