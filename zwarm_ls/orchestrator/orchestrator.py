"""The autonomous orchestrator: an LLM loop over the session tools that runs until it
calls `exit(message)`, a watcher stops it, or its step budget is spent.

Every step is persisted (`.zwarm/orchestrator/<run_id>/run.json`, atomic writes) with its
history and its protocol steps, so a crash loses at most the step in flight and
`zwarm/orchestratorTrajectory` can read any run, finished or not.
"""

from __future__ import annotations

import logging
import os
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from ..config import Config
from ..costs import estimate_cost
from ..errors import InvalidParams, ZwarmError
from ..protocol import (
    RUN_RESUMABLE,
    ListRunsParams,
    ListRunsResult,
    OrchestrateResult,
    RunStatus,
    RunSummary,
    RunTrajectoryParams,
    RunTrajectoryResult,
    SessionSummary,
    Step,
    TokenUsage,
)
from ..runner import process_start_ticks
from ..service import SessionService
from ..store import now_iso, read_json, write_json_atomic
from .agent import Agent, StepLog, StepSink
from .history import Item, user
from .llm import LLMClient, TextSink
from .prompts import orchestrator_prompt
from .providers import make_client
from .tools import Toolbox, ToolContext, UserChannel, build_tools
from .watchers import PROGRESS_TOOLS, QualityWatcher, RunState, WatcherManager

log = logging.getLogger(__name__)

NO_TOOL_NUDGE = ("(No tool was called.) Keep working with the tools; when the task is done "
                 "and verified, call exit(message) with your report.")


class RunRecord(BaseModel):
    """What is on disk for one orchestrator run."""

    run_id: str
    kind: str = "orchestrator"
    name: str | None = None  # a label to find it by (zwarm's instance name)
    task: str
    status: RunStatus = "running"
    created_at: str = Field(default_factory=now_iso)
    updated_at: str = Field(default_factory=now_iso)
    max_steps: int
    step_count: int = 0
    message: str | None = None
    stopped_by: str | None = None
    sessions: list[str] = Field(default_factory=list)
    usage: TokenUsage = Field(default_factory=TokenUsage)
    steps: list[Step] = Field(default_factory=list)
    items: list[Item] = Field(default_factory=list)
    # The process driving the run, so a resume can refuse to run it twice at once.
    pid: int | None = None
    start_ticks: int | None = None
    resumed: int = 0
    # The watchers' own state (what fired, pauses, the judge's spending), for a resume.
    watchers: dict[str, Any] = Field(default_factory=dict)

    def driven(self) -> bool:
        """Whether a live process is still driving this run."""
        return self.status == "running" and self.pid is not None and \
            process_start_ticks(self.pid) == self.start_ticks


RESUME_NOTE = ("[note: this run was resumed after it {how}. Sessions you started may have "
               "finished or changed meanwhile: check them before you go on.]")


def new_run_id() -> str:
    return f"{datetime.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}"


def runs_dir(config: Config) -> Path:
    return config.zwarm_dir / "orchestrator"


def read_run(config: Config, run_id: str) -> RunRecord:
    data = read_json(runs_dir(config) / run_id / "run.json")
    if data is None:
        raise InvalidParams(f"no orchestrator run '{run_id}'",
                            hint="run ids are listed under .zwarm/orchestrator/")
    return RunRecord.model_validate(data)


def list_runs(config: Config) -> list[RunRecord]:
    """Every orchestrator run of the project, newest first (unreadable ones skipped)."""
    records = []
    folder = runs_dir(config)
    for path in folder.glob("*/run.json") if folder.is_dir() else []:
        data = read_json(path)
        if data is None:
            continue
        try:
            records.append(RunRecord.model_validate(data))
        except ValueError:
            log.warning("unreadable orchestrator run %s", path)
    return sorted(records, key=lambda r: r.created_at, reverse=True)


def run_summary(record: RunRecord) -> RunSummary:
    """What listings show: a run left `running` by a process that died is `interrupted`."""
    status = "interrupted" if record.status == "running" and not record.driven() \
        else record.status
    return RunSummary(run_id=record.run_id, name=record.name, status=status, task=record.task,
                      step_count=record.step_count, max_steps=record.max_steps,
                      sessions=record.sessions, usage=record.usage,
                      created_at=record.created_at, updated_at=record.updated_at,
                      resumed=record.resumed, resumable=status in RUN_RESUMABLE,
                      message=record.message, stopped_by=record.stopped_by)


def list_run_summaries(config: Config, params: ListRunsParams) -> ListRunsResult:
    runs = [run_summary(r) for r in list_runs(config)]
    return ListRunsResult(runs=runs[:params.limit] if params.limit else runs)


def run_trajectory(config: Config, params: RunTrajectoryParams) -> RunTrajectoryResult:
    record = read_run(config, params.run_id)
    steps = [s for s in record.steps if s.index >= params.since_index]
    return RunTrajectoryResult(run_id=record.run_id, kind="orchestrator", status=record.status,
                               task=record.task, steps=steps,
                               next_index=steps[-1].index + 1 if steps else params.since_index)


class Orchestrator:
    def __init__(self, service: SessionService, task: str, *, max_steps: int | None = None,
                 user_channel: UserChannel | None = None, client: LLMClient | None = None,
                 on_steps: StepSink | None = None,
                 on_text: TextSink | None = None, run_id: str | None = None,
                 name: str | None = None):
        self.service = service
        self.config: Config = service.config
        cfg = self.config.orchestrator
        self.record = RunRecord(run_id=run_id or new_run_id(), name=name, task=task,
                                max_steps=max_steps or cfg.max_steps)
        self.path = runs_dir(self.config) / self.record.run_id / "run.json"
        self.ctx = ToolContext(service=service, config=cfg,
                               source=f"orchestrator:{self.record.run_id}")
        if user_channel is not None:
            self.ctx.user = user_channel
        self.toolbox = Toolbox(self.ctx, build_tools(self.config.daemon.default_adapter, True))
        self.watchers = WatcherManager(self.config.watchers, cfg, self.config.root)
        if self.watchers.gated:
            self.ctx.exit_gate = self._exit_gate
            self.ctx.exit_gate_timeout_s = max(
                w.timeout_s for w in self.watchers.watchers if isinstance(w, QualityWatcher)
            ) + 30.0
        self.ctx.pause_watcher = self._pause_watcher
        self.gave_up: str | None = None  # the quality check's last failure, when it gave up
        self.client = client
        self.on_text = on_text
        self.steps = StepLog(sink=self._sink(on_steps))
        self.calls: list[list] = []
        self._finished_seen = 0
        self.last_progress_step = 0
        self.items: list[Item] = [user(f"Task: {task}", tag="task")]

    @classmethod
    def resume(cls, service: SessionService, run_id: str, *, max_steps: int | None = None,
               user_channel: UserChannel | None = None, client: LLMClient | None = None,
               on_steps: StepSink | None = None,
               on_text: TextSink | None = None) -> Orchestrator:
        """Carry on a stopped, failed or interrupted run with its history, steps, crew and
        usage; `max_steps` is the new budget (default: its own, or that much more when it
        was spent)."""
        record = read_run(service.config, run_id)
        if record.driven():
            raise InvalidParams(f"run {run_id} is still running (pid {record.pid})",
                                hint="stop that process first")
        if record.status == "exited":
            raise InvalidParams(f"run {run_id} finished with exit(): nothing to resume",
                                hint="start a new run")
        run = cls(service, record.task, user_channel=user_channel, client=client,
                  on_steps=on_steps, on_text=on_text, run_id=record.run_id)
        how = "was interrupted" if record.status == "running" else \
            f"stopped ({record.stopped_by or record.status})"
        budget = max_steps or (record.max_steps + service.config.orchestrator.max_steps
                               if record.step_count >= record.max_steps else record.max_steps)
        run.record = record.model_copy(update={
            "status": "running", "stopped_by": None, "message": None, "max_steps": budget,
            "resumed": record.resumed + 1})
        run.ctx.sessions = list(record.sessions)
        run.steps = StepLog(start=record.steps[-1].index + 1 if record.steps else 0,
                            sink=run._sink(on_steps))
        run.steps.steps = list(record.steps)
        # A run that died before its history was first saved starts again from its task,
        # still told that it was resumed (its sessions may exist).
        note = RESUME_NOTE.format(how=how)
        run.items = [*(record.items or run.items), user(note, tag="note")]
        run.steps.add(record.step_count, "message", note, detail=note)  # viewers see it too
        run.last_progress_step = record.step_count
        run.watchers.restore(record.watchers)
        return run

    @property
    def run_id(self) -> str:
        return self.record.run_id

    def _sink(self, outer: StepSink | None) -> StepSink:
        async def sink(batch: list[Step]) -> None:
            self.save()
            if outer is not None:
                result = outer(batch)
                if result is not None:
                    await result
        return sink

    def save(self) -> None:
        self.record.updated_at = now_iso()
        self.record.steps = self.steps.steps
        self.record.sessions = list(self.ctx.sessions)
        self.record.watchers = self.watchers.snapshot()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(self.path, self.record.model_dump(mode="json"))

    def result(self) -> OrchestrateResult:
        r = self.record
        return OrchestrateResult(run_id=r.run_id, status=r.status, step_count=r.step_count,
                                 message=r.message, stopped_by=r.stopped_by,
                                 sessions=list(self.ctx.sessions), usage=r.usage)

    # ----- the loop ---------------------------------------------------------------------

    async def run(self) -> OrchestrateResult:
        try:
            await self._run()
        except ZwarmError as exc:  # the LLM could not be reached, a missing key, …
            self._finish("failed", stopped_by="error", message=str(exc))
            self.steps.add(self.record.step_count, "error", str(exc))
        except BaseException as exc:
            # Cancelled (the client went away, Ctrl-C) or a bug: record it, then re-raise.
            self._finish("stopped" if not isinstance(exc, Exception) else "failed",
                         stopped_by=type(exc).__name__, message=str(exc) or None)
            self.steps.add(self.record.step_count, "error", f"run ended: {type(exc).__name__}")
            await self.steps.flush()
            raise
        await self.steps.flush()
        self.save()
        return self.result()

    async def _run(self) -> None:
        client = self.client or make_client(self.config.orchestrator)
        agent = Agent(client, self.toolbox, orchestrator_prompt(self.config), self.items,
                      self.steps, self.config.orchestrator.max_context_chars, self.on_text)
        agent.usage = self.record.usage
        self.agent = agent
        self.record.pid, self.record.start_ticks = os.getpid(), process_start_ticks(os.getpid())
        for warning in self.watchers.warnings:  # a watcher setting that was not used, and why
            self.steps.add(self.record.step_count, "error", f"[watchers] {warning}")
        await self.steps.flush()
        self.save()
        while self.record.step_count < self.record.max_steps:
            if await self._watch(agent):
                return
            step = self.record.step_count + 1
            completion = await agent.step(step)
            self.record.step_count = step
            self.record.usage = agent.usage
            self.record.items = agent.items
            self.calls.append(completion.tool_calls)
            self._note_progress(step, completion.tool_calls)
            if self.gave_up is not None:
                self._finish("stopped", stopped_by="watcher:quality",
                             message=f"the quality check kept failing: {self.gave_up}")
                self.steps.add(step, "error", self.record.message or "")
                return
            if self.ctx.exited:
                self._finish("exited", stopped_by="exit", message=self.ctx.exit_message)
                return
            if not completion.tool_calls:
                agent.add_user(NO_TOOL_NUDGE, "nudge", step)
            self.save()
        self._finish("budget_exhausted", stopped_by="max_steps",
                     message=f"stopped after {self.record.max_steps} steps without exit()")
        self.steps.add(self.record.step_count, "error", self.record.message or "")

    def _finish(self, status: RunStatus, stopped_by: str, message: str | None) -> None:
        self.record.status = status
        self.record.stopped_by = stopped_by
        self.record.message = message

    def _my_sessions(self) -> list[SessionSummary]:
        out = []
        for session_id in self.ctx.sessions:
            try:
                out.append(self.service.index.summary(session_id))
            except ZwarmError:  # deleted meanwhile
                continue
        return out

    def _note_progress(self, step: int, calls: list) -> None:
        finished = sum(not s.status.is_active for s in self._my_sessions())
        if any(c.name in PROGRESS_TOOLS for c in calls) or finished > self._finished_seen:
            self.last_progress_step = step
        self._finished_seen = finished

    def _state(self, items: list[Item]) -> RunState:
        sessions = self._my_sessions()
        llm_cost = estimate_cost(self.config.orchestrator.model, self.record.usage) or 0.0
        return RunState(step=self.record.step_count, max_steps=self.record.max_steps,
                        calls=self.calls, usage=self.record.usage, sessions=sessions,
                        cost_usd=llm_cost + self.watchers.cost_usd()
                        + sum(s.cost_usd or 0.0 for s in sessions),
                        last_progress_step=self.last_progress_step, task=self.record.task,
                        read_steps=self.service.index.steps, items=items)

    async def _exit_gate(self) -> str | None:
        failure, give_up = await self.watchers.gate()
        step = self.record.step_count + 1  # the step whose exit call this is
        if failure is None:
            self.steps.add(step, "message", "[watcher: quality] the quality check passed")
            return None
        self.steps.add(step, "error", f"[watcher: quality] exit refused: {failure}",
                       detail=failure)
        if give_up:
            self.gave_up = failure
        return failure

    def _pause_watcher(self, name: str, steps: int) -> str:
        return self.watchers.pause(name, steps, self.record.step_count)

    async def _watch(self, agent: Agent) -> bool:
        """Run the watchers; True when one of them stops the run."""
        step = self.record.step_count
        for verdict in await self.watchers.observe(self._state(agent.items)):
            text = f"[watcher: {verdict.watcher}] {verdict.message}"
            if verdict.action == "stop":
                self._finish("budget_exhausted" if verdict.watcher == "budget" else "stopped",
                             stopped_by=f"watcher:{verdict.watcher}", message=verdict.message)
                self.steps.add(step, "error", text)
                return True
            agent.add_user(text, "nudge", step, role=self.watchers.message_role)
        return False
