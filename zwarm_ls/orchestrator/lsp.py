"""The orchestrator and pilot as LSP methods:

  zwarm/orchestrate             {task, maxSteps?, wait?} → {runId, status, …}
  zwarm/orchestratorTrajectory  {runId, sinceIndex?}     → the run's steps (pilot ids too)
  zwarm/listRuns                {limit?}                 → orchestrator runs, newest first
  zwarm/resumeRun               {runId, maxSteps?, wait?} → like orchestrate, for a stopped run
  zwarm/pilot                   {message, pilotId?}      → the turn's reply and checkpoint
  zwarm/pilotHistory            {pilotId?}               → checkpoints
  zwarm/pilotGoto               {checkpoint, pilotId?}   → the new current checkpoint

Each is also `workspace/executeCommand` `zwarm.<name>`. Steps stream to the client as
`zwarm/orchestratorUpdated` notifications. `chat` reaches the user with a custom
`zwarm/chat` request when the client declares `experimental.zwarm.chat`, and otherwise
with `window/showMessageRequest` (the answer is the button the user picked).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from lsprotocol import types as lsp
from pydantic import BaseModel, ValidationError

from ..errors import InvalidParams
from ..protocol import (
    ChatAnswer,
    ChatQuestion,
    ListRunsParams,
    OrchestrateParams,
    OrchestrateResult,
    OrchestratorUpdated,
    PilotGotoParams,
    PilotParams,
    PilotRef,
    ResumeRunParams,
    RunTrajectoryParams,
    Step,
)
from ..rpc import Handler, to_plain
from .orchestrator import (
    Orchestrator,
    list_run_summaries,
    new_run_id,
    read_run,
    run_trajectory,
)
from .pilot import Pilot, pilot_path

if TYPE_CHECKING:
    from ..rpc import ServerHost

log = logging.getLogger(__name__)

ORCHESTRATOR_UPDATED = "zwarm/orchestratorUpdated"
CHAT_REQUEST = "zwarm/chat"


class LspUser:
    """`chat` over LSP: a question the editor shows, and the answer it sends back."""

    def __init__(self, ls: ServerHost):
        self.ls = ls

    def _custom_chat(self) -> bool:
        experimental = self.ls.client_capabilities.experimental
        zwarm = experimental.get("zwarm") if isinstance(experimental, dict) else None
        return bool(isinstance(zwarm, dict) and zwarm.get("chat"))

    async def ask(self, message: str, options: list[str] | None) -> str | None:
        if self._custom_chat():
            question = ChatQuestion(message=message, options=options)
            reply = to_plain(await self.ls.protocol.send_request_async(CHAT_REQUEST,
                                                                       question.wire()))
            if not isinstance(reply, dict):  # a bare string from a lenient client
                return str(reply) if reply is not None else None
            try:
                return ChatAnswer.model_validate(reply).answer
            except ValidationError:
                log.warning("ignoring a malformed zwarm/chat reply: %r", reply)
                return None
        actions = [lsp.MessageActionItem(title=o) for o in (options or ["OK"])]
        picked = await self.ls.window_show_message_request_async(lsp.ShowMessageRequestParams(
            type=lsp.MessageType.Info, message=f"zwarm asks: {message}", actions=actions))
        return picked.title if picked is not None else None

    async def tell(self, message: str) -> None:
        self.ls.window_show_message(lsp.ShowMessageParams(type=lsp.MessageType.Info,
                                                          message=f"zwarm: {message}"))


class Hub:
    """The runs and pilots of one server; pilots are loaded from disk on first use."""

    def __init__(self, ls: ServerHost):
        self.ls = ls
        self.runs: dict[str, Orchestrator] = {}
        self.tasks: set[asyncio.Task[Any]] = set()
        self.pilots: dict[str, Pilot] = {}
        self.locks: dict[str, asyncio.Lock] = {}

    def _notifier(self, run_id: str, kind: Literal["orchestrator", "pilot"],
                  status: Callable[[], Any]) -> Callable[[list[Step]], None]:
        def notify(steps: list[Step]) -> None:
            update = OrchestratorUpdated(run_id=run_id, kind=kind, status=status(),
                                         new_steps=steps)
            self.ls.protocol.notify(ORCHESTRATOR_UPDATED, update.wire())
        return notify

    async def orchestrate(self, p: OrchestrateParams) -> OrchestrateResult:
        run_id = new_run_id()
        notify = self._notifier(run_id, "orchestrator", lambda: run.record.status)
        run = Orchestrator(self.ls.service, p.task, max_steps=p.max_steps,
                           user_channel=LspUser(self.ls), run_id=run_id, on_steps=notify)
        return await self._start(run, notify, p.wait)

    async def resume(self, p: ResumeRunParams) -> OrchestrateResult:
        """Carry on a stopped, failed or interrupted run in this daemon."""
        active = self.runs.get(p.run_id)
        if active is not None and active.record.status == "running":
            raise InvalidParams(f"run {p.run_id} is running in this daemon")
        notify = self._notifier(p.run_id, "orchestrator", lambda: run.record.status)
        run = Orchestrator.resume(self.ls.service, p.run_id, max_steps=p.max_steps,
                                  user_channel=LspUser(self.ls), on_steps=notify)
        return await self._start(run, notify, p.wait)

    async def _start(self, run: Orchestrator, notify: Callable[[list[Step]], None],
                     wait: bool) -> OrchestrateResult:
        self.runs[run.run_id] = run

        async def run_and_report() -> OrchestrateResult:
            try:
                return await run.run()
            finally:
                notify([])  # the final status: the last step went out while still running

        if wait:
            return await run_and_report()
        task = asyncio.create_task(run_and_report(), name=f"zwarm-orchestrator-{run.run_id}")
        self.tasks.add(task)
        task.add_done_callback(self._done)
        run.save()
        return run.result()

    def _done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("orchestrator run failed", exc_info=task.exception())

    async def trajectory(self, p: RunTrajectoryParams) -> BaseModel:
        config = self.ls.service.config
        if p.run_id in self.runs or (config.zwarm_dir / "orchestrator" / p.run_id).is_dir():
            return run_trajectory(config, p)
        if pilot_path(config, p.run_id).is_file():
            return self._pilot(p.run_id).trajectory(p.since_index)
        read_run(config, p.run_id)  # raises the "no such run" error
        raise InvalidParams(f"no run '{p.run_id}'")

    async def list_runs(self, p: ListRunsParams) -> BaseModel:
        """Every run of the project, this daemon's and those of `zwarm-ls orchestrate`."""
        return list_run_summaries(self.ls.service.config, p)

    def _pilot(self, pilot_id: str) -> Pilot:
        if pilot_id not in self.pilots:
            pilot = Pilot(self.ls.service, pilot_id, user_channel=LspUser(self.ls))
            pilot.on_steps = self._notifier(pilot_id, "pilot", lambda: "running")
            self.pilots[pilot_id] = pilot
        return self.pilots[pilot_id]

    def _lock(self, pilot_id: str) -> asyncio.Lock:
        return self.locks.setdefault(pilot_id, asyncio.Lock())

    async def pilot(self, p: PilotParams) -> BaseModel:
        async with self._lock(p.pilot_id):
            return await self._pilot(p.pilot_id).send(p.message)

    async def history(self, p: PilotRef) -> BaseModel:
        return self._pilot(p.pilot_id).history()

    async def goto(self, p: PilotGotoParams) -> BaseModel:
        async with self._lock(p.pilot_id):
            return self._pilot(p.pilot_id).goto(p.checkpoint)


# Served by the server like its own requests, as zwarm/<name> and zwarm.<name>; each entry
# picks the handler from the server's hub.
REQUESTS: dict[str, tuple[type[BaseModel], Callable[[Hub], Handler]]] = {
    "orchestrate": (OrchestrateParams, lambda hub: hub.orchestrate),
    "orchestratorTrajectory": (RunTrajectoryParams, lambda hub: hub.trajectory),
    "listRuns": (ListRunsParams, lambda hub: hub.list_runs),
    "resumeRun": (ResumeRunParams, lambda hub: hub.resume),
    "pilot": (PilotParams, lambda hub: hub.pilot),
    "pilotHistory": (PilotRef, lambda hub: hub.history),
    "pilotGoto": (PilotGotoParams, lambda hub: hub.goto),
}
