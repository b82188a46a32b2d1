"""The session service: every session verb, used by the LSP server, the headless CLI
and the orchestrator tools alike. It validates, writes the store, starts runners, and
answers reads from the live index. File and process work runs off the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import shutil
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from . import editor, models
from .adapters import get_adapter
from .aio import wait_event
from .config import Config
from .edits import read_disk
from .errors import (
    ExecutorMissing,
    InvalidParams,
    PolicyViolation,
    SessionStateError,
    StoreError,
)
from .executors import Executor, get_executor
from .index import (
    RESCAN_INTERVAL_S,
    Change,
    Index,
    Listing,
    latest_message,
    needs_attention,
    status_of,
)
from .protocol import (
    CheckResult,
    CleanParams,
    CleanResult,
    ConverseParams,
    ConverseResult,
    DelegateParams,
    DelegateResult,
    EndParams,
    EndResult,
    ListParams,
    ListResult,
    PeekResult,
    RawJson,
    SessionCounts,
    SessionRef,
    SessionSummary,
    SessionUpdated,
    Status,
    TokenUsage,
    TrajectoryParams,
    TrajectoryResult,
    WaitParams,
    WaitResult,
)
from .review import Review, path_of
from .runner import runner_alive
from .store import SessionMeta, Store, TurnRecord, now_iso, parse_time, read_json
from .turns import ExitRecord, finalize_turn

log = logging.getLogger(__name__)

Listener = Callable[[SessionUpdated], Awaitable[None] | None]

BUSY_TICK_S = 0.04  # ticks when file-system events are unavailable
IDLE_TICK_S = 0.15
READY_TIMEOUT_S = 60.0
STOP_GRACE_S = 10.0
RUNNER_EXIT_WAIT_S = 5.0
BUSY_POLL_S = 1.0  # safety polls beside file-system events: a runner killed silently
IDLE_POLL_S = 5.0
FILE_EVENT_BATCH_MS = 30  # events are grouped for at most this long …
FILE_EVENT_STEP_MS = 10  # … or until the store has been quiet this long
SUMMARY_DETAIL_CHARS = 2000
EVENTS_RESCAN_S = 30.0  # store rescans while file events name changed meta.json files
WATCHER_SETUP_S = 1.0


def transcript_prompt(meta: SessionMeta, message: str) -> str:
    """A continuation prompt for sessions with no native resume id (old zwarm stores):
    the whole conversation so far, original task included, then the new message."""
    lines = ["Continue the following conversation.", ""]
    if meta.task and not any(m.get("role") == "user" for m in meta.messages):
        lines.append(f"USER: {meta.task}")  # zwarm did not always record the task as a message
    for m in meta.messages:
        if m.get("role") in ("user", "assistant") and m.get("content"):
            lines.append(f"{m['role'].upper()}: {m['content']}")
    lines += ["", f"USER: {message}", "", "Continue from where you left off, "
              "addressing the user's new message."]
    return "\n".join(lines)


class SessionService:
    def __init__(self, config: Config, store: Store | None = None):
        self._config = config
        self.store = store or Store(config.root)
        self.index = Index(self.store)
        self.review = Review(config, self.store, self.index)
        self._listeners: list[Listener] = []
        self._status_event = asyncio.Event()
        self._watch_task: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._ready = asyncio.Event()
        self._rewritten: set[str] = set()  # sessions whose meta.json file events named
        self._written: set[str] | None = None  # ... whose turn files they named (None: all)

    @property
    def config(self) -> Config:
        return self._config

    @config.setter
    def config(self, config: Config) -> None:
        self._config = self.review.config = config

    # ----- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        """Build the index and begin following the store."""
        await asyncio.to_thread(self.index.refresh, None, False)  # every meta.json, once
        await asyncio.to_thread(self._recover_remote_turns)
        await asyncio.to_thread(self.index.refresh)
        self._ready.set()
        self._watch_task = asyncio.create_task(self._watch(), name="zwarm-watch")
        self._spawn(self._settle_foreign())

    async def _settle_foreign(self) -> None:
        """Sessions zwarm wrote get their steps, usage and cost from their turn files, in
        the background (the index is usable before), each pushed when it is read; and
        finished sessions whose change counts were never recorded get them."""
        await self._dispatch(await asyncio.to_thread(self.index.settle_foreign))
        for session_id in self.index.ids():
            meta = self.index.meta(session_id)
            extra = meta.model_extra or {}
            if extra.get("change_set") and "changes" not in extra and \
                    not status_of(meta.status).is_active:
                await self.review.refresh(session_id)

    async def wait_ready(self, timeout_s: float = READY_TIMEOUT_S) -> None:
        """Wait for the first index build: a request that comes earlier is answered in
        full, not from half a store."""
        if self._ready.is_set():
            return
        try:
            async with asyncio.timeout(timeout_s):
                await self._ready.wait()
        except TimeoutError:
            raise StoreError("the session index is still being built",
                             hint="try again in a moment") from None

    async def stop(self) -> None:
        if self._watch_task:
            self._watch_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch_task
        # Change-set bookkeeping in flight (counts written to meta.json) finishes first, so
        # a CLI run that ends right after a session leaves the store complete.
        if self._background:
            await asyncio.wait(list(self._background), timeout=STOP_GRACE_S)

    async def _watch(self) -> None:
        """Refresh the index whenever the store changes on disk (inotify through
        watchfiles), and on a slow safety poll: runners that die without a word, and file
        systems that send no events. Work is proportional to what changed."""
        woken = asyncio.Event()
        events = asyncio.create_task(self._file_events(woken), name="zwarm-file-events")
        try:
            while True:
                try:
                    # Woken by file events: tail only the turns that were written to; on
                    # a safety poll (or with no events) tail every running one.
                    rewritten, self._rewritten = self._rewritten, set()
                    written, self._written = self._written, None
                    changes = await asyncio.to_thread(self.index.refresh, rewritten,
                                                      written=written)
                    await self._dispatch(changes)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("refreshing the session index failed")
                if self.index.behind:  # a backlog is read in slices, one after the other
                    self._written = None
                    await asyncio.sleep(0)
                    continue
                if events.done():  # no file events here: tick as before
                    await asyncio.sleep(BUSY_TICK_S if self.index.any_active() else IDLE_TICK_S)
                    continue
                poll = BUSY_POLL_S if self.index.any_active() else IDLE_POLL_S
                if not await wait_event(woken, poll):
                    self._written = None  # the safety poll: every running turn
                woken.clear()
        finally:
            events.cancel()

    async def _file_events(self, woken: asyncio.Event) -> None:
        """Set `woken` on every batch of writes under the store's sessions and journal,
        and note the sessions whose meta.json was rewritten: another tool (zwarm itself, a
        daemon of an older version) writes them without our journal."""
        try:
            import watchfiles
        except ImportError:
            log.warning("watchfiles is not installed: polling the store instead")
            return
        watched = [self.store.sessions_dir, self.store.journal.parent]
        for folder in watched:
            folder.mkdir(parents=True, exist_ok=True)
        self.index.rescan_interval_s = EVENTS_RESCAN_S
        # What was written while the watcher was being set up came with no event: one
        # look at every meta.json once it is surely watching.
        self.index.rescan_after(WATCHER_SETUP_S)
        try:
            async for batch in watchfiles.awatch(*watched, debounce=FILE_EVENT_BATCH_MS,
                                             step=FILE_EVENT_STEP_MS, recursive=True,
                                             watch_filter=None, ignore_permission_denied=True):
                metas, turns = changed_sessions(batch, self.store.sessions_dir)
                self._rewritten |= metas
                if not woken.is_set():
                    self._written = set()
                if self._written is not None:
                    self._written |= turns
                woken.set()
        except Exception as exc:  # inotify limits, an exotic file system
            log.warning("no file-system events (%s): polling the store instead", exc)
        self.index.rescan_interval_s = RESCAN_INTERVAL_S

    async def poke(self) -> None:
        """Refresh now (after this process wrote something) instead of on the next tick."""
        await self._dispatch(await asyncio.to_thread(self.index.refresh))

    async def _dispatch(self, changes: list[Change]) -> None:
        if any(c.status_changed for c in changes):
            self._status_event.set()
            self._status_event = asyncio.Event()
        for change in changes:
            await asyncio.sleep(0)  # a burst of changes must not hold off requests
            if change.summary is None:
                continue
            self._follow_changes(change)
            update = SessionUpdated(session=change.summary, new_steps=change.new_steps,
                                    removed=change.removed, overlaps=change.summary.overlaps)
            for listener in list(self._listeners):
                try:
                    result = listener(update)
                    if inspect.isawaitable(result):
                        await result
                except Exception:
                    log.exception("a session listener failed")

    def _follow_changes(self, change: Change) -> None:
        """Keep change sets current: snapshot files an agent just changed, and recount a
        session's hunks when its turn ends."""
        summary = change.summary
        if summary is None or change.removed:
            return
        if summary.status.is_active and any(s.kind == "file_change" for s in change.new_steps):
            self._spawn(self.review.on_steps(summary.id, change.new_steps))
        elif change.status_changed and not summary.status.is_active:
            self._spawn(self.review.refresh(summary.id))

    def _spawn(self, work: Awaitable[object]) -> None:
        async def guarded() -> None:
            try:
                await work
            except Exception:
                log.exception("updating a change set failed")

        task = asyncio.create_task(guarded())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener` with every update; returns the function that unsubscribes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    async def updates(self) -> AsyncIterator[SessionUpdated]:
        queue: asyncio.Queue[SessionUpdated] = asyncio.Queue()
        unsubscribe = self.subscribe(queue.put_nowait)
        try:
            while True:
                yield await queue.get()
        finally:
            unsubscribe()

    # ----- helpers -----------------------------------------------------------------------

    def resolve(self, ref: str) -> str:
        return self.index.resolve(ref)

    def _working_dir(self, requested: str | None) -> Path:
        root = self.config.root
        path = (root / requested).resolve() if requested else root
        if not path.is_dir():
            raise InvalidParams(f"workingDir '{requested}' is not an existing directory",
                                hint="give a directory inside the project")
        if not self.in_workspace(path):
            raise PolicyViolation(
                f"workingDir '{path}' is outside the allowed directories",
                hint="add it to [daemon] allowed_dirs in .zwarm/config.toml",
            )
        return path

    def in_workspace(self, path: Path) -> bool:
        """Whether `path` is in the project or an allowed dir: the only files whose
        contents the daemon reads for a client (code actions, selections)."""
        root = self.config.root
        allowed = self.config.daemon.allowed_dirs
        if allowed == ["*"]:
            return True
        bases = [root] + ([] if allowed is None else [(root / a).resolve() for a in allowed])
        resolved = path.resolve()
        return any(resolved == b or b in resolved.parents for b in bases)

    def _recover_remote_turns(self) -> None:
        """Remote turns whose relay died while no daemon ran get a new relay on the same
        job before the index judges runner liveness (else they would be failed)."""
        remote = [(sid, meta.turn) for sid in self.index.ids()
                  if (meta := self.index.meta(sid)).model_extra
                  and meta.model_extra.get("executor") == "ray"
                  and status_of(meta.status).is_active]
        if not remote:
            return
        from .executors.ray import reattach

        for session_id, turn in remote:
            try:
                reattach(self.store, session_id, turn)
            except Exception:
                log.exception("session %s: re-attaching its remote turn failed", session_id)

    def _executor(self, meta: SessionMeta) -> Executor:
        """Where the session's turns run (recorded at delegate, so a restart agrees)."""
        kind = (meta.model_extra or {}).get("executor") or "local"
        return get_executor(kind if isinstance(kind, str) else "local", self.config.executor)

    def _executable(self, adapter_name: str) -> tuple[list[str], dict[str, str]]:
        adapter = get_adapter(adapter_name)
        cfg = self.config.adapter(adapter_name)
        env = adapter.env(cfg)
        binary = cfg.binary or adapter.binary
        if shutil.which(binary, path=env.get("PATH")) is None:
            raise ExecutorMissing(
                f"the {adapter_name} CLI ('{binary}') was not found on PATH",
                hint=f"install it, or set `binary` in .zwarm/{adapter_name}.toml",
            )
        return [binary], env

    async def _launch(self, meta: SessionMeta, turn: int, prompt: str) -> None:
        adapter = get_adapter(meta.adapter)
        cfg = self.config.adapter(meta.adapter)
        executor = self._executor(meta)
        env = self._executable(meta.adapter)[1] if executor.kind == "local" else \
            adapter.env(cfg)
        argv = adapter.command(cfg, model=meta.model, working_dir=meta.working_dir,
                               resume_id=meta.resume_id if turn > 1 else None)
        try:
            await asyncio.to_thread(executor.launch, self.store, meta, turn, prompt, argv, env)
        except OSError as exc:
            # The turn never started: settle it as failed, so nothing is left pending.
            reason = f"the turn could not start: {exc}"
            await asyncio.to_thread(finalize_turn, self.store, meta.id, turn, ExitRecord(
                exit_code=None, killed=False, reason=reason, ended_at=now_iso()))
            await self.poke()
            hint = ("start the cluster or fix [executor] address"
                    if isinstance(exc, ConnectionError) else "check the session's working dir")
            raise SessionStateError(reason, hint=hint) from None
        await self.poke()

    # ----- verbs -------------------------------------------------------------------------

    async def delegate(self, params: DelegateParams) -> DelegateResult:
        # The model may name its adapter (sonnet runs on claude) and may be an alias.
        adapter_name, model_name = models.resolve(params.model, params.adapter)
        adapter_name = adapter_name or self.config.daemon.default_adapter
        adapter = get_adapter(adapter_name)
        working_dir = self._working_dir(params.working_dir)
        executor = params.executor or self.config.executor.kind
        if executor == "local":  # a remote turn finds the CLI on the workers
            self._executable(adapter_name)
        model = model_name or self.config.adapter(adapter_name).model or adapter.default_model
        task = self._task_text(params)
        anchor = params.anchor or params.selection
        # A remote turn works in a copy of the base snapshot: its result is always a
        # worktree change set.
        isolation = params.isolation or ("worktree" if executor == "ray" else
                                         self.review.default_isolation(working_dir,
                                                                       params.source))
        session_id = self.store.new_id()
        scope, agent_dir = await asyncio.to_thread(self.review.prepare, session_id, working_dir,
                                                   isolation)
        now = now_iso()
        meta = SessionMeta(
            id=session_id, task=task, status="pending",
            working_dir=str(agent_dir), created_at=now, updated_at=now, model=model, turn=1,
            messages=[{"role": "user", "content": task, "timestamp": now,
                       "metadata": {"turn": 1}}],
            source=params.source or "user", adapter=adapter_name,
            anchor=anchor.model_dump(mode="json") if anchor else None,
            turns=[TurnRecord(turn=1)],
            change_set=self.review.scope_record(scope), executor=executor,
        )
        overlaps = self.review.anchor_overlaps(meta, anchor.uri, anchor.range) if anchor else []
        await asyncio.to_thread(self.store.create, meta)
        self.index.put_meta(meta)
        await self._launch(meta, 1, task)
        status = self.index.meta(meta.id).status
        return DelegateResult(session_id=meta.id, short_id=meta.id[:8], status=status_of(status),
                              adapter=adapter_name, model=model, working_dir=str(working_dir),
                              isolation=scope.isolation, executor=executor,
                              agent_dir=str(agent_dir), overlaps=overlaps)

    def _task_text(self, params: DelegateParams) -> str:
        """The task as given, or written here for a selection (the same text whichever
        editor sent it), with the user's words as the instruction."""
        if params.selection is None:
            assert params.task is not None
            return params.task
        path = path_of(params.selection.uri)
        if path is None:
            raise InvalidParams("selection.uri must be a file URI")
        if not self.in_workspace(path):
            raise PolicyViolation(f"'{path}' is outside the project and the allowed dirs",
                                  hint="select code inside the workspace")
        buffered = self.review.editor.buffer(path) if self.review.editor else None
        data = buffered if buffered is not None else read_disk(path)
        if data is None:
            raise InvalidParams(f"cannot read the selected file {path}",
                                hint="save it first, or send the task text")
        lines = data.decode("utf-8", errors="replace").splitlines(keepends=True)
        r = editor.to_lsp_range(params.selection.range)
        root = self.config.root
        shown = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
        text = editor.selection_task(shown, r, editor.text_in_range(lines, r),
                                     editor.language_of(path))
        return f"{params.task}\n\n{text}" if params.task else text

    async def converse(self, params: ConverseParams) -> ConverseResult:
        session_id = self.resolve(params.session_id)
        if self._executor(self.index.meta(session_id)).kind == "local":
            self._executable(self.index.meta(session_id).adapter)
        self.review.check_workspace(self.index.meta(session_id))
        working_dir = Path(self.index.meta(session_id).working_dir)
        if not working_dir.is_dir():
            raise SessionStateError(
                f"session {session_id[:8]}'s working dir {working_dir} no longer exists",
                hint="start a new session where the code is now")
        prompt_holder: dict[str, str] = {}

        def next_turn(m: SessionMeta) -> None:
            if status_of(m.status).is_active:
                raise SessionStateError(
                    f"session {m.id[:8]} is still {m.status}",
                    hint="wait for it to finish, or end it first",
                )
            prompt_holder["prompt"] = params.message if m.resume_id \
                else transcript_prompt(m, params.message)
            m.turn += 1
            m.status, m.error, m.exit_code = "pending", None, None
            m.messages.append({"role": "user", "content": params.message, "timestamp": now_iso(),
                               "metadata": {"turn": m.turn}})
            m.turns.append(TurnRecord(turn=m.turn, resumed=bool(m.resume_id)))

        meta = await asyncio.to_thread(self.store.update, session_id, next_turn)
        self.index.put_meta(meta)
        await self._launch(meta, meta.turn, prompt_holder["prompt"])
        return ConverseResult(session_id=session_id, turn=meta.turn,
                              status=status_of(self.index.meta(session_id).status),
                              resumed_natively=bool(meta.resume_id))

    async def peek(self, params: SessionRef) -> PeekResult:
        summary = self.index.summary(self.resolve(params.session_id))
        return PeekResult(session_id=summary.id, short_id=summary.short_id, status=summary.status,
                          is_running=summary.status.is_active,
                          latest_message=summary.latest_message, activity=summary.activity)

    async def check(self, params: SessionRef) -> CheckResult:
        session_id = self.resolve(params.session_id)
        await self._mark_viewed(session_id)
        meta = self.index.meta(session_id)
        live = self.index.live_state(session_id)
        summary = self.index.summary(session_id)
        message_count = len(meta.messages) + (len(live.messages) if live else 0)
        return CheckResult(
            session_id=session_id, short_id=session_id[:8], status=summary.status,
            is_running=summary.status.is_active, task=meta.task, adapter=meta.adapter,
            model=meta.model, response=latest_message(meta, live) or None, turn=meta.turn,
            message_count=message_count, usage=summary.usage, cost_usd=meta.cost_usd,
            runtime_s=runtime_s(meta), exit_code=meta.exit_code, error=meta.error,
        )

    async def trajectory(self, params: TrajectoryParams) -> TrajectoryResult:
        session_id = self.resolve(params.session_id)
        await self._mark_viewed(session_id)
        return await asyncio.to_thread(self._trajectory, session_id, params)

    async def trajectory_json(self, params: TrajectoryParams) -> RawJson:
        """`trajectory` encoded for the wire off the event loop: a full trajectory of a
        long session is tens of MB of JSON."""
        session_id = self.resolve(params.session_id)
        await self._mark_viewed(session_id)

        def encoded() -> RawJson:
            result = self._trajectory(session_id, params)
            return RawJson(result.model_dump_json(by_alias=True, exclude_none=True))
        return await asyncio.to_thread(encoded)

    def _trajectory(self, session_id: str, params: TrajectoryParams) -> TrajectoryResult:
        steps = self.index.steps(session_id, params.since_index)
        if not params.full:
            steps = [s if s.detail is None or len(s.detail) <= SUMMARY_DETAIL_CHARS
                     else s.model_copy(update={"detail": _shorten(s.detail)}) for s in steps]
        return TrajectoryResult(session_id=session_id,
                                status=self.index.summary(session_id).status, steps=steps,
                                next_index=params.since_index + len(steps))

    async def list(self, params: ListParams) -> ListResult:
        page = self.list_page(params)
        sessions = [s for s, _ in page.rows] if params.fields is None else \
            [_pick(s, params.fields) for s, _ in page.rows]
        return ListResult(sessions=sessions, counts=page.counts, next_cursor=page.next_cursor)

    async def list_json(self, params: ListParams) -> RawJson:
        """`list` encoded for the wire: the same ListResult, joined from the rows' cached
        JSON, so listing 1,000 sessions encodes nothing that did not change."""
        if params.fields is not None:
            return RawJson((await self.list(params)).model_dump_json(by_alias=True,
                                                                     exclude_none=True))
        page = self.list_page(params)
        whole = page.next_cursor is None and params.status is None and params.cursor is None
        if whole and isinstance(page.listing.body, RawJson):
            return page.listing.body
        parts = ['{"sessions":[', ",".join(text for _, text in page.rows), '],"counts":',
                 page.counts.model_dump_json(by_alias=True)]
        if page.next_cursor is not None:
            parts += [',"nextCursor":', json.dumps(page.next_cursor)]
        body = RawJson("".join(parts) + "}")
        if whole:
            page.listing.body = body
        return body

    def list_page(self, params: ListParams) -> ListPage:
        """The sessions `params` select, as summaries with their rows' JSON."""
        listing = self.index.listing()
        rows = listing.rows
        if params.status:
            rows = [r for r in rows if r[0].status == params.status]
        if params.cursor is not None:  # the rows after the last one of the previous page
            after = _cursor_key(params.cursor)
            rows = [r for r in rows if (r[0].created_at, r[0].id) < after]
        next_cursor = None
        if params.limit is not None and len(rows) > params.limit:
            rows = rows[:params.limit]
            last = rows[-1][0]
            next_cursor = f"{last.created_at}|{last.id}"
        return ListPage(listing, rows, listing.counts, next_cursor)

    async def end(self, params: EndParams) -> EndResult:
        session_id = self.resolve(params.session_id)
        meta = self.index.meta(session_id)
        was_running = status_of(meta.status).is_active
        if was_running:
            await asyncio.to_thread(self._kill, meta)
            if params.reason:
                def note(m: SessionMeta) -> None:
                    if m.status == "killed":
                        m.error = f"ended: {params.reason}"
                await asyncio.to_thread(self.store.update, session_id, note)
        if params.delete:
            # Unapplied work is never deleted without saying so: clean --force does that.
            await asyncio.to_thread(self.review.changes.clean, self.index.meta(session_id),
                                    False)
            await asyncio.to_thread(self._wait_for_runner, self.index.meta(session_id))
            await asyncio.to_thread(self.store.delete, session_id)
            await self.poke()
            return EndResult(session_id=session_id, status="deleted", was_running=was_running,
                             reason=params.reason)
        await self.poke()
        return EndResult(session_id=session_id, status=self.index.summary(session_id).status,
                         was_running=was_running, reason=params.reason)

    def _kill(self, meta: SessionMeta) -> None:
        """Stop the running turn and make sure it is settled as killed."""
        paths = self.store.turn_paths(meta.id, meta.turn)
        self._executor(meta).terminate(self.store, meta, meta.turn)
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline and not paths.exit.exists():
            time.sleep(0.05)
        current = self.store.read_meta(meta.id)
        record = current.turn_record(meta.turn) if current else None
        if current is not None and (record is None or not record.ended_at):
            finalize_turn(self.store, meta.id, meta.turn,
                          ExitRecord(exit_code=None, killed=True, ended_at=now_iso()))

    def _wait_for_runner(self, meta: SessionMeta) -> None:
        """A runner writes its exit record just after it settled the turn: let it finish
        before its session's folder goes (bounded; a stuck one is not waited for)."""
        paths = self.store.turn_paths(meta.id, meta.turn)
        deadline = time.monotonic() + RUNNER_EXIT_WAIT_S
        while time.monotonic() < deadline:
            run = read_json(paths.run)
            if run is None or not runner_alive(run):
                return
            time.sleep(0.05)

    async def wait(self, params: WaitParams) -> WaitResult:
        """Return as soon as one of the sessions is no longer running, or at the timeout."""
        ids = [self.resolve(r) for r in params.session_ids] if params.session_ids else \
            [s.id for s in self.index.summaries() if s.status.is_active]
        deadline = time.monotonic() + params.timeout_s
        while True:
            summaries = [self.index.summary(i) for i in ids]
            finished = [s for s in summaries if not s.status.is_active]
            running = [s.id for s in summaries if s.status.is_active]
            remaining = deadline - time.monotonic()
            if finished or not ids or remaining <= 0:
                return WaitResult(finished=finished, still_running=running,
                                  timed_out=not finished and bool(ids))
            await wait_event(self._status_event, remaining)

    async def clean(self, params: CleanParams) -> CleanResult:
        cutoff = datetime.now(UTC) - timedelta(days=params.keep_days)
        removed: list[str] = []
        kept: list[str] = []
        for s in self.index.summaries():
            created = parse_time(s.created_at)
            if not s.status.is_active and created is not None and created < cutoff:
                if s.changes and s.changes.pending + s.changes.conflict and not params.force:
                    kept.append(s.id)  # unapplied hunks: kept unless forced
                    continue
                removed.append(s.id)
                if not params.dry_run:
                    await asyncio.to_thread(self.review.changes.clean,
                                            self.index.meta(s.id), True)
                    await asyncio.to_thread(self._wait_for_runner, self.index.meta(s.id))
                    await asyncio.to_thread(self.store.delete, s.id)
        await self.poke()
        return CleanResult(removed=removed, kept=kept)

    async def _mark_viewed(self, session_id: str) -> None:
        """Clear `needs_attention` of a just-finished session someone looked at. Only when
        that changes something: clients re-read trajectories on every update, and a write
        per read would echo between two editor windows on one store."""
        def viewed(m: SessionMeta) -> None:
            m.viewed_at = now_iso()

        meta = self.index.meta(session_id)
        if meta.status == Status.COMPLETED and needs_attention(meta):
            self.index.put_meta(await asyncio.to_thread(self.store.update, session_id, viewed))


def changed_sessions(batch: set[tuple[object, str]],
                     sessions_dir: Path) -> tuple[set[str], set[str]]:
    """The sessions whose meta.json, and those whose turn files, a batch of file events
    touched."""
    metas, turns = set(), set()
    depth = len(sessions_dir.parts)
    for _, path in batch:
        parts = Path(path).parts
        if parts[:depth] != sessions_dir.parts or len(parts) < depth + 2:
            continue
        if len(parts) == depth + 2 and parts[-1] == "meta.json":
            metas.add(parts[depth])
        elif len(parts) == depth + 3 and parts[depth + 1] == "turns":
            turns.add(parts[depth])
    return metas, turns


def runtime_s(meta: SessionMeta) -> float:
    """Time from creation to the end of the last turn (or now, while it runs)."""
    start = parse_time(meta.created_at)
    if start is None:
        return 0.0
    record = meta.turn_record(meta.turn)
    end = parse_time(record.ended_at) if record and record.ended_at else None
    if end is None:
        end = datetime.now(UTC) if status_of(meta.status).is_active else parse_time(meta.updated_at)
    return round(max(((end or start) - start).total_seconds(), 0.0), 3)


@dataclass
class ListPage:
    listing: Listing  # every session, for the unfiltered whole list
    rows: list[tuple[SessionSummary, str]]  # summary and its row's JSON, newest first
    counts: SessionCounts  # over every session, whatever the filter and page
    next_cursor: str | None

    @property
    def summaries(self) -> list[SessionSummary]:
        return [summary for summary, _ in self.rows]


def _cursor_key(cursor: str) -> tuple[str, str]:
    created_at, sep, session_id = cursor.rpartition("|")
    if not sep:
        raise InvalidParams("cursor is not one this daemon gave out",
                            hint="pass the nextCursor of the previous page, or no cursor")
    return created_at, session_id


def _pick(summary: SessionSummary, fields: list[str]) -> dict:
    wire = summary.wire()
    return {k: wire[k] for k in ("id", *fields) if k in wire}


def _shorten(detail: str | None) -> str | None:
    if detail is None or len(detail) <= SUMMARY_DETAIL_CHARS:
        return detail
    return detail[:SUMMARY_DETAIL_CHARS] + f"\n… ({len(detail) - SUMMARY_DETAIL_CHARS} more chars)"


__all__ = ["SessionService", "TokenUsage"]
