"""Everything the server pushes without being asked: `zwarm/sessionUpdated`, one
`$/progress` work-done token per running session, code lens refreshes, and a message
when a session completes or fails.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from .protocol import ChangesUpdated, RawJson, SessionSummary, SessionUpdated, Status
from .text import clip

if TYPE_CHECKING:
    from .rpc import ServerHost

log = logging.getLogger(__name__)

SESSION_UPDATED = "zwarm/sessionUpdated"
CHANGES_UPDATED = "zwarm/changesUpdated"
LENS_REFRESH_DELAY_S = 0.1
PROGRESS_CREATE_TIMEOUT_S = 15.0
PROGRESS_REPORT_INTERVAL_S = 0.25


class SessionNotifier:
    def __init__(self, ls: ServerHost):
        self.ls = ls
        self.pending_warnings: list[str] = []
        self._tokens: dict[str, str] = {}
        self._statuses: dict[str, Status] = {}
        self._lens_refresh: asyncio.TimerHandle | None = None
        self._progress_locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._reported: dict[str, float] = {}  # when each session's progress was reported

    async def start(self) -> None:
        """Begin progress for sessions already running when the client connected."""
        self.warn(self.pending_warnings)
        for summary in self.ls.service.index.summaries():
            self._statuses[summary.id] = summary.status
            if summary.status.is_active:
                await self._progress(summary)

    def warn(self, warnings: list[str]) -> None:
        for warning in warnings:
            self.ls.window_show_message(lsp.ShowMessageParams(type=lsp.MessageType.Warning,
                                                              message=f"zwarm: {warning}"))

    def on_changes(self, update: ChangesUpdated) -> None:
        self.ls.protocol.notify(CHANGES_UPDATED, update.wire())
        self._schedule_lens_refresh()

    async def on_update(self, update: SessionUpdated) -> None:
        summary = update.session
        # Encoded straight to JSON (pydantic's serializer): a slice of a long session's
        # backlog carries a thousand steps, and dicts + json.dumps would hold the loop.
        self.ls.protocol.notify(SESSION_UPDATED, RawJson(
            update.model_dump_json(by_alias=True, exclude_none=True)))
        previous = self._statuses.get(summary.id)
        self._statuses[summary.id] = summary.status
        if previous is not None and previous.is_active and not summary.status.is_active:
            self._announce(summary)
        if summary.anchor is not None:
            self._schedule_lens_refresh()
        # Creating a progress token waits on the client: in the background, in order per
        # session, so a slow client never holds up the other pushes.
        self._in_order(summary, update)

    def _in_order(self, summary: SessionSummary, update: SessionUpdated) -> None:
        if self._too_soon(summary):
            return
        lock = self._progress_locks.setdefault(summary.id, asyncio.Lock())

        async def report() -> None:
            async with lock:
                await self._progress(summary, update)

        task = asyncio.create_task(report())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _too_soon(self, s: SessionSummary) -> bool:
        """A running session's latest step reaches the progress bar at most a few times a
        second: a bar cannot show more, and each report is a message to encode and send
        (a busy agent writes a hundred events a second). Begin and end always go."""
        if not (s.status.is_active and s.id in self._tokens):
            self._reported.pop(s.id, None)
            return False
        now = time.monotonic()
        if now - self._reported.get(s.id, -math.inf) < PROGRESS_REPORT_INTERVAL_S:
            return True
        self._reported[s.id] = now
        return False

    def _supports_progress(self) -> bool:
        window = self.ls.client_capabilities.window
        return bool(window and window.work_done_progress)

    async def _progress(self, s: SessionSummary, update: SessionUpdated | None = None) -> None:
        if not self._supports_progress():
            return
        token = self._tokens.get(s.id)
        progress = self.ls.work_done_progress
        if s.status.is_active and token is None:
            token = f"zwarm/{s.id}"
            try:
                async with asyncio.timeout(PROGRESS_CREATE_TIMEOUT_S):
                    await progress.create_async(token)
            except Exception as exc:  # the client refused or did not answer
                log.info("no progress token for %s: %s", s.short_id, exc)
                return
            self._tokens[s.id] = token
            progress.begin(token, lsp.WorkDoneProgressBegin(
                title=f"zwarm {s.adapter} {s.short_id}", message=clip(s.task, 80),
                cancellable=False))
        elif s.status.is_active and token and update and update.new_steps:
            progress.report(token, lsp.WorkDoneProgressReport(
                message=clip(update.new_steps[-1].summary, 80)))
        elif not s.status.is_active and token:
            del self._tokens[s.id]
            outcome = s.error if s.status == Status.FAILED and s.error else s.latest_step or ""
            progress.end(token, lsp.WorkDoneProgressEnd(
                message=clip(f"{s.status.value}: {outcome}", 80)))

    def _announce(self, s: SessionSummary) -> None:
        if not self.ls.service.config.daemon.show_notifications:
            return
        failed = s.status == Status.FAILED
        detail = s.error if failed else s.latest_message
        text = f"zwarm: {s.adapter} session {s.short_id} {s.status.value}"
        self.ls.window_show_message(lsp.ShowMessageParams(
            type=lsp.MessageType.Error if failed else lsp.MessageType.Info,
            message=f"{text}: {clip(detail, 120)}" if detail else text))

    def _supports_lens_refresh(self) -> bool:
        workspace = self.ls.client_capabilities.workspace
        return bool(workspace and workspace.code_lens and workspace.code_lens.refresh_support)

    def _schedule_lens_refresh(self) -> None:
        """Coalesce bursts of updates into one `workspace/codeLens/refresh`."""
        if not self._supports_lens_refresh() or self._lens_refresh is not None:
            return

        def fire() -> None:
            self._lens_refresh = None
            try:
                self.ls.workspace_code_lens_refresh(None)
            except Exception:  # a client that went away must not break the update loop
                log.exception("workspace/codeLens/refresh failed")

        self._lens_refresh = asyncio.get_running_loop().call_later(LENS_REFRESH_DELAY_S, fire)
