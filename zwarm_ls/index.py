"""The live, in-memory index of every session in a store.

Built from the files, kept current by `refresh()` (called every few tens of ms by the
watcher): it reads the change journal to learn which meta.json files were rewritten,
tails the output files of running turns from their last byte offset, and settles a turn
when its runner's exit record appears. Nothing is re-read whole on a poll; trajectories
of finished sessions are parsed once, on first demand.

A process that restarts rebuilds the same steps from the same bytes, so after a restart
no step is lost or shown twice. Thread-safe: the watcher refreshes from a worker thread
while request handlers read.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import ClassVar

from pydantic import ValidationError

from .adapters import get_adapter
from .adapters.base import StepDraft, TurnState
from .errors import AmbiguousSession, SessionNotFound
from .foreign import ForeignTotals, Settled, SettledCache, settle_turns, turn_stamps
from .protocol import (
    Anchor,
    ChangeCounts,
    Overlap,
    SessionCounts,
    SessionRow,
    SessionSummary,
    Status,
    Step,
    TokenUsage,
)
from .runner import launch_in_progress, process_start_ticks, runner_alive, stop_orphaned_group
from .store import (
    SessionMeta,
    Store,
    TurnPaths,
    now_iso,
    parse_time,
    read_json,
    validate_id,
    write_json_atomic,
)
from .text import clip
from .turns import ExitRecord, TurnReader, finalize_turn

log = logging.getLogger(__name__)

ATTENTION_WINDOW = timedelta(seconds=60)
RESCAN_INTERVAL_S = 2.0
LIVENESS_INTERVAL_S = 1.0
# A turn left `pending` with no runner record and nobody launching it (the daemon that
# wrote it died before starting the runner) is failed after this long: the gap between
# writing meta.json and `runner.launch` taking its lock is normally milliseconds.
LAUNCH_GRACE_S = 30.0
# A summary is a preview, sent for every session in every list: bounded text only (the
# full task is in checkSession, the full messages in the trajectory).
TASK_PREVIEW_CHARS = 200
LATEST_PREVIEW_CHARS = 100
# Steps kept in memory per session (the newest); older ones are re-read from the turn
# file when a full trajectory is asked for, so a 100k-step session costs no more memory.
STEP_WINDOW = 2000
TAIL_SLICE_BYTES = 256 * 1024  # read per running turn per refresh
ROW_FIELDS = frozenset(SessionRow.model_fields)  # what a summary sends in a list


@dataclass
class Change:
    session_id: str
    summary: SessionSummary | None
    new_steps: list[Step] = field(default_factory=list)
    status_changed: bool = False
    removed: bool = False


# zwarm's claude sessions name cached input the way the Anthropic API does.
USAGE_ALIASES = {"cache_read_input_tokens": "cached_input_tokens"}


def meta_usage(meta: SessionMeta) -> TokenUsage:
    counts: dict[str, int] = {}
    for key, value in meta.token_usage.items():
        name = USAGE_ALIASES.get(key, key)
        if name in TokenUsage.model_fields and isinstance(value, int):
            counts[name] = counts.get(name, 0) + value
    return TokenUsage.model_validate(counts)


@dataclass
class Entry:
    meta: SessionMeta
    steps: list[Step] | None = None  # None until someone needs them
    reader: TurnReader | None = None  # tail of the turn that is running
    reader_turn: int = 0
    liveness_checked: float = 0.0
    problem: str | None = None  # why its files could not be read, shown as its error
    # meta.json's (mtime, size) when it was last read: a rescan re-reads those that moved,
    # so a write no file event told us about (the watcher was starting) is not missed.
    meta_stamp: tuple[int, int] | None = None
    foreign: ForeignTotals = field(default_factory=lambda: ForeignTotals())
    # The summary and its JSON, built once per change and shared by every reader (a list
    # of 1,000 sessions is then a join of cached strings), until `until` (wall clock),
    # when its time-dependent field (needs_attention) may flip.
    # Steps in memory are a window: the first one's index, and where each turn began.
    step_base: int = 0
    turn_starts: dict[int, int] = field(default_factory=dict)
    settled: Settled | None = None  # a zwarm session's turn files, read once (no steps)
    paths: tuple[int, TurnPaths] | None = None  # the followed turn's files
    cached: SessionSummary | None = None
    cached_json: str | None = None  # the summary's row (SessionRow) as sent in a list
    live_changed: bool = False  # only the fields the running turn moves are out of date
    until: float = math.inf
    # Bumped by every change to any entry (of any index: at worst a listing is rebuilt
    # once too often), so an unchanged store is listed from one cached string.
    generation: ClassVar[int] = 0

    def touch(self, live_only: bool = False) -> None:
        """Something the summary shows changed: build it again on the next read, or with
        `live_only` (new steps, the running turn's activity) only update those fields."""
        if live_only:
            self.live_changed = True
        else:
            self.cached = None
        self.cached_json = None
        Entry.generation += 1

    @property
    def step_count(self) -> int:
        return self.step_base + len(self.steps or ())


@dataclass
class TailRead:
    """What one refresh read from a running turn, before it is applied to the entry."""

    reader: TurnReader
    turn: int
    drafts: list[StepDraft]
    moved: bool  # bytes were consumed (the live state may have changed)
    exit_rec: ExitRecord | None


@dataclass
class Listing:
    """Every summary, newest first, with its JSON; the same object until something
    changes, so what is derived from it is derived once."""

    rows: list[tuple[SessionSummary, str]]
    until: float  # when a time-dependent field of some summary may flip (wall clock)
    body: str | None = None  # the whole list's reply, once someone encoded it

    @cached_property
    def counts(self) -> SessionCounts:
        by_status = Counter(s.status.value for s, _ in self.rows)
        return SessionCounts(total=len(self.rows), **by_status,
                             needs_attention=sum(s.needs_attention for s, _ in self.rows))


def status_of(value: str) -> Status:
    """A meta.json status as a Status; anything unknown (a foreign tool's) counts as failed."""
    try:
        return Status(value)
    except ValueError:
        return Status.FAILED


class Index:
    def __init__(self, store: Store):
        self.store = store
        # `_lock` guards the entries and is held only briefly, one session at a time, so a
        # request reading the index never waits for a whole refresh; `_refresh_lock` keeps
        # the watcher and a poke from refreshing at once.
        self._lock = threading.RLock()
        self._refresh_lock = threading.Lock()
        self._entries: dict[str, Entry] = {}
        self._listing: tuple[int, Listing] | None = None
        self._active: set[str] = set()  # pending or running, or with a turn file to read
        # How often the folder list is compared with the index (sessions created or
        # deleted by tools that keep no journal); the service lengthens it while
        # file-system events tell it about new meta.json files anyway.
        self.rescan_interval_s = RESCAN_INTERVAL_S
        self._journal_offset = 0
        self._last_rescan = 0.0
        self._rescan_due = math.inf  # an extra rescan asked for by `rescan_after`
        self._started = False
        # Set once the first refresh has read every session: a reader that must not
        # answer from half a store (a request arriving at start-up) waits on it.
        self.ready = threading.Event()
        # Set by a refresh that left bytes unread (a turn file's backlog is read in
        # slices, so no refresh holds the index or floods a client for long).
        self.behind = False

    # ----- refresh -----------------------------------------------------------------------

    def refresh(self, rewritten: set[str] | None = None, follow: bool = True,
                written: set[str] | None = None) -> list[Change]:
        """Bring the index up to date with the files; return what changed. `rewritten`:
        sessions whose meta.json was written by someone who keeps no journal. Without
        `follow`, only meta.json files are read (running turns are not tailed, and no
        runner is judged gone): the start-up pass before remote turns are re-attached.
        `written`: tail only these sessions' running turns (file events named them);
        None tails every running turn and checks its runner."""
        with self._refresh_lock:
            self.behind = False
            changed, offset = self.store.read_journal(self._journal_offset)
            self._journal_offset = offset
            if changed is not None and rewritten:
                changed |= rewritten
            now = time.monotonic()
            if changed is None or not self._started or now >= self._rescan_due or \
                    now - self._last_rescan > self.rescan_interval_s:
                changed = (changed or set()) | self._rescan_ids()
                self._last_rescan, self._rescan_due = now, math.inf
                self._started = True
            changes: dict[str, Change] = {}
            for session_id in changed:
                with self._lock, self._isolated(session_id):
                    change = self._reload(session_id)
                    if change:
                        changes[session_id] = change
            with self._lock:
                # Only active sessions have a running turn to tail: never walk the store.
                following = self._active if written is None else self._active & written
                tailed = [(sid, e) for sid in following
                          if (e := self._entries.get(sid)) is not None and e.reader is not None
                          and follow]
            for session_id, entry in tailed:
                # Reading and parsing happen outside the lock (only this thread advances
                # a reader), so a request never waits for a slice of a backlog.
                read = None
                with self._isolated(session_id):
                    read = self._read_tail(session_id, entry)
                with self._lock, self._isolated(session_id):
                    if read is not None and entry.reader is read.reader and \
                            self._entries.get(session_id) is entry:
                        self._apply_tail(session_id, entry, read, changes)
            if follow:
                self.ready.set()
            return list(changes.values())

    def wait_ready(self, timeout_s: float | None = None) -> bool:
        """Block until the first refresh has finished (or `timeout_s` passed); whether it has."""
        return self.ready.wait(timeout_s)

    @contextlib.contextmanager
    def _isolated(self, session_id: str) -> Iterator[None]:
        """One session's bad files must not stop the others from being read: log it (once
        per problem), stop tailing it, and go on."""
        try:
            yield
        except Exception as exc:
            entry = self._entries.get(session_id)
            problem = f"{type(exc).__name__}: {exc}"
            if entry is not None:
                entry.reader = None
                entry.touch()
                if entry.problem != problem:
                    log.exception("session %s cannot be read", session_id)
                entry.problem = problem
                self._note_activity(entry)
            else:
                log.exception("session %s cannot be read", session_id)

    def any_active(self) -> bool:
        """Whether some session is pending or running, or still being read (O(1))."""
        return bool(self._active)

    def _note_activity(self, entry: Entry) -> None:
        """Keep the set of sessions the watcher follows current: active ones, and any whose
        turn file is still being read (its runner may have recorded the end first)."""
        if (status_of(entry.meta.status).is_active and not entry.problem) or \
                entry.reader is not None:
            self._active.add(entry.meta.id)
        else:
            self._active.discard(entry.meta.id)

    def rescan_after(self, delay_s: float) -> None:
        """Compare the store with the index on the first refresh `delay_s` from now."""
        self._rescan_due = time.monotonic() + delay_s

    def _rescan_ids(self) -> set[str]:
        """Sessions created or deleted, and those whose meta.json changed, since the index
        last read them (one stat per session)."""
        on_disk = set(self.store.list_ids())
        with self._lock:
            stamps = {sid: e.meta_stamp for sid, e in self._entries.items()}
        moved = {sid for sid, stamp in stamps.items()
                 if sid in on_disk and self._meta_stamp(sid) != stamp}
        return (stamps.keys() - on_disk) | (on_disk - stamps.keys()) | moved

    def _meta_stamp(self, session_id: str) -> tuple[int, int] | None:
        try:
            stat = os.stat(self.store.meta_path(session_id))
        except OSError:
            return None
        return stat.st_mtime_ns, stat.st_size

    def _reload(self, session_id: str) -> Change | None:
        stamp = self._meta_stamp(session_id)  # before reading: a later write moves it again
        try:
            meta = self.store.read_meta(session_id)
        except Exception:  # an invalid directory name in the journal
            meta = None
        entry = self._entries.get(session_id)
        if entry is not None:
            entry.meta_stamp = stamp
        if meta is None:
            if entry is None or self.store.session_dir(session_id).exists():
                return None  # unreadable for now (being created); keep what we had
            del self._entries[session_id]
            self._active.discard(session_id)
            entry.touch()
            return Change(session_id, self._summary(entry), status_changed=True, removed=True)
        if entry is None:
            entry = self._entries[session_id] = Entry(meta=meta, meta_stamp=stamp)
            entry.touch()
            self._note_activity(entry)
            status_changed = True
        else:
            status_changed = (entry.meta.status, entry.meta.turn) != (meta.status, meta.turn)
            if entry.meta.updated_at == meta.updated_at and not status_changed:
                return None
            entry.meta = meta
            entry.touch()
            self._note_activity(entry)
        new_steps: list[Step] = []
        behind = entry.reader is None and entry.reader_turn < meta.turn
        if (status_of(meta.status).is_active and entry.reader_turn != meta.turn) or (
            entry.steps is not None and behind
        ):
            new_steps = self._ensure_steps(entry)
        return Change(session_id, self._summary(entry), new_steps, status_changed)

    def _read_tail(self, session_id: str, entry: Entry) -> TailRead | None:
        """The next slice of a running turn's output, and its exit record if the turn is
        over and this slice reached the end."""
        reader, turn = entry.reader, entry.reader_turn
        if reader is None:
            return None
        if entry.paths is None or entry.paths[0] != turn:  # built once per turn, not per wake
            entry.paths = (turn, self.store.turn_paths(session_id, turn))
        paths = entry.paths[1]
        exit_rec = ExitRecord.read(paths.exit)
        if exit_rec is None and (reason := self._runner_vanished(entry, turn)):
            exit_rec = self._settle_orphan(session_id, turn, paths, reason)
        offset = reader.offset
        drafts = reader.read_new(final=exit_rec is not None, max_bytes=TAIL_SLICE_BYTES)
        if not reader.at_end:  # a backlog: the rest on the next refresh, which comes at once
            self.behind, exit_rec = True, None
        return TailRead(reader, turn, drafts, reader.offset != offset, exit_rec)

    def _apply_tail(self, session_id: str, entry: Entry, read: TailRead,
                    changes: dict[str, Change]) -> None:
        turn, exit_rec = read.turn, read.exit_rec
        new = self._append(entry, turn, read.drafts)
        if read.moved:  # activity and the last message may have moved
            entry.touch(live_only=True)
        status_changed = False
        if exit_rec is not None:
            entry.reader = None
            self._note_activity(entry)
            meta = self.store.read_meta(session_id)
            record = meta.turn_record(turn) if meta else None
            if meta is not None and (record is None or not record.ended_at):
                meta = finalize_turn(self.store, session_id, turn, exit_rec)
            if meta is not None:
                status_changed = meta.status != entry.meta.status
                entry.meta = meta
                entry.touch()
                self._note_activity(entry)
        if new or status_changed:
            change = changes.get(session_id) or Change(session_id, None)
            change.new_steps.extend(new)
            change.status_changed |= status_changed
            change.summary = self._summary(entry)
            changes[session_id] = change

    def _runner_vanished(self, entry: Entry, turn: int) -> str | None:
        """Why nobody supervises the running turn any more, or None while someone does."""
        now = time.monotonic()
        if now - entry.liveness_checked < LIVENESS_INTERVAL_S:
            return None
        entry.liveness_checked = now
        paths = self.store.turn_paths(entry.meta.id, turn)
        run = read_json(paths.run)
        if run is not None:
            return None if runner_alive(run) else "the runner of this turn was killed"
        if entry.meta.status == Status.PENDING.value:  # zwarm never writes pending: ours
            return _abandoned_launch(entry.meta, paths)
        return "the agent's process is gone" if _zwarm_turn_over(entry) else None

    def _settle_orphan(self, session_id: str, turn: int, paths, reason: str
                       ) -> ExitRecord | None:
        """The runner died without an exit record (SIGKILL, OOM), or was never started:
        stop what is left of its process group, and settle the turn here."""
        time.sleep(0.05)  # it may have been writing the record just now
        from .executors.ray import resume_orphan  # the rare path: keep the import off start

        if resume_orphan(self.store, session_id, turn):
            return None  # a Ray job outlives its relay: a new relay follows it, nothing lost
        existing = ExitRecord.read(paths.exit)
        if existing is not None:
            return existing
        run = read_json(paths.run)
        if run is not None and runner_alive(run):
            return None  # its runner recorded itself since the check: alive, leave it be
        log.warning("session %s turn %d: %s (no exit record)", session_id, turn, reason)
        if stop_orphaned_group(run):
            reason += "; its agent was stopped"
        record = ExitRecord(exit_code=None, killed=False, reason=reason, ended_at=now_iso())
        write_json_atomic(paths.exit, record.dump())
        return record

    # ----- steps -------------------------------------------------------------------------

    def _append(self, entry: Entry, turn: int, drafts: list[StepDraft]) -> list[Step]:
        assert entry.steps is not None
        entry.turn_starts.setdefault(turn, entry.step_count)
        new = _to_steps(drafts, turn, entry.step_count)
        if new:
            entry.steps.extend(new)
            entry.touch(live_only=True)
            excess = len(entry.steps) - STEP_WINDOW
            if excess > STEP_WINDOW // 4:  # trimmed in batches: `del` moves the list
                del entry.steps[:excess]
                entry.step_base += excess
        return new

    def _ensure_steps(self, entry: Entry) -> list[Step]:
        """Read every turn not read yet (each finished turn once), keep a tail on a running
        one, and return the steps that were added."""
        meta = entry.meta
        if entry.steps is None:
            entry.steps, entry.reader, entry.reader_turn = [], None, 0
            entry.step_base, entry.turn_starts = 0, {}
        adapter = get_adapter(meta.adapter)
        first = entry.reader_turn if entry.reader is not None else entry.reader_turn + 1
        added: list[Step] = []
        for turn in range(first, meta.turn + 1):
            paths = self.store.turn_paths(meta.id, turn)
            reader = entry.reader if entry.reader is not None and entry.reader_turn == turn \
                else TurnReader(adapter, paths.output)
            running = turn == meta.turn and status_of(meta.status).is_active \
                and not paths.exit.exists()
            added += self._append(entry, turn, reader.read_new(final=not running))
            entry.reader, entry.reader_turn = (reader if running else None), turn
            if not meta.turns and not running:
                entry.foreign.add(turn, reader.state, adapter.cumulative_usage)
        entry.touch()
        self._note_activity(entry)
        return added

    def settle_foreign(self) -> list[Change]:
        """Read the turn files of finished sessions that zwarm itself wrote (no per-turn
        records), once, so their step count, usage and cost come from what the CLI
        reported rather than from zwarm's last-turn totals. Runs in the background after
        start; each session is parsed without holding the index, and no step is kept.
        What an earlier start read, and whose files have not changed, comes from the
        settled cache instead."""
        cache = SettledCache(self.store)
        cache.load()
        changes = []
        for session_id in self.ids():
            with self._lock:
                entry = self._entries.get(session_id)
                if entry is None or entry.steps is not None or entry.meta.turns or \
                        entry.settled is not None or status_of(entry.meta.status).is_active:
                    continue
                meta = entry.meta
            settled = None
            with self._isolated(session_id):
                stamps = turn_stamps(self.store, meta)  # before reading: a write moves them
                settled = cache.get(session_id, stamps)
                if settled is None:
                    settled = settle_turns(self.store, meta, LATEST_PREVIEW_CHARS)
                    cache.put(session_id, stamps, settled)
            with self._lock:
                if settled is None or self._entries.get(session_id) is not entry or \
                        entry.meta is not meta:
                    continue
                entry.settled, entry.foreign = settled, settled.totals
                entry.touch()
                changes.append(Change(session_id, self._summary(entry)))
        cache.save(keep=set(self.ids()))
        return changes

    def steps(self, session_id: str, since: int = 0) -> list[Step]:
        """Steps from index `since` on. The last STEP_WINDOW are in memory; older ones are
        parsed again from their turn files (outside the lock) when someone asks."""
        with self._lock:
            entry = self._get(session_id)
            behind = entry.reader is None and entry.reader_turn < entry.meta.turn
            added = self._ensure_steps(entry) if entry.steps is None or behind else []
            first_added = entry.step_count - len(added)
            if added and since >= first_added:  # just parsed: every step asked for is here
                return added[since - first_added:]
            assert entry.steps is not None
            window = entry.steps[max(since - entry.step_base, 0):]
            if since >= entry.step_base:
                return window
            meta, base, starts = entry.meta, entry.step_base, dict(entry.turn_starts)
        return _reread_steps(self.store, meta, starts, since, base) + window

    def live_state(self, session_id: str) -> TurnState | None:
        with self._lock:
            entry = self._get(session_id)
            return entry.reader.state if entry.reader else None

    # ----- lookup --------------------------------------------------------------------------

    def resolve(self, ref: str) -> str:
        """A full session id from an id or a unique prefix of one."""
        validate_id(ref)
        with self._lock:
            if ref in self._entries:
                return ref
            matches = [sid for sid in self._entries if sid.startswith(ref)]
            if not matches and self.store.exists(ref):  # created a moment ago elsewhere
                self._reload(ref)
                return ref
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise SessionNotFound(f"no session matches '{ref}'",
                                  hint="list sessions to see the ids (8 characters suffice)")
        shown = ", ".join(sorted(m[:12] for m in matches)[:5])
        raise AmbiguousSession(f"'{ref}' matches {len(matches)} sessions: {shown}",
                               hint="give more characters of the id")

    def meta(self, session_id: str) -> SessionMeta:
        with self._lock:
            return self._get(session_id).meta

    def put_meta(self, meta: SessionMeta) -> None:
        """Take a meta this process just wrote, without waiting for the next refresh."""
        with self._lock:
            entry = self._entries.get(meta.id)
            if entry is None:
                self._entries[meta.id] = entry = Entry(meta=meta)
            else:
                entry.meta = meta
            entry.touch()
            self._note_activity(entry)

    def _get(self, session_id: str) -> Entry:
        entry = self._entries.get(session_id)
        if entry is None:
            raise SessionNotFound(f"no session '{session_id}'",
                                  hint="it may have been deleted; list sessions to see the ids")
        return entry

    def summary(self, session_id: str) -> SessionSummary:
        with self._lock:
            return self._summary(self._get(session_id))

    def summaries(self) -> list[SessionSummary]:
        """Every session's summary, newest first."""
        return [summary for summary, _ in self.listing().rows]

    def listing(self) -> Listing:
        """Every session's summary with its row's wire JSON, newest first (ties by id, so a page
        cursor is stable); the same object until something changes."""
        cached = self._listing  # read without the lock: a parse holding it never delays this
        if cached is not None and cached[0] == Entry.generation and time.time() < cached[1].until:
            return cached[1]
        with self._lock:
            rows = [(e.meta.created_at, e.meta.id, self._summary(e), self._row_json(e))
                    for e in self._entries.values()]
            rows.sort(key=lambda r: (r[0], r[1]), reverse=True)
            listing = Listing([(summary, text) for _, _, summary, text in rows],
                              min((e.until for e in self._entries.values()), default=math.inf))
            self._listing = (Entry.generation, listing)
            return listing

    def ids(self) -> list[str]:
        with self._lock:
            return list(self._entries)

    # ----- summaries -------------------------------------------------------------------------

    def _summary(self, entry: Entry) -> SessionSummary:
        if entry.cached is None or time.time() >= entry.until:
            entry.cached, entry.cached_json = self._build_summary(entry), None
            entry.until = attention_ends(entry.meta)
        elif entry.live_changed:  # a streaming turn: a copy with its moving fields
            entry.cached = entry.cached.model_copy(
                update=self._live_fields(entry, entry.cached.status))
        entry.live_changed = False
        return entry.cached

    def _row_json(self, entry: Entry) -> str:
        summary = self._summary(entry)
        if entry.cached_json is None:
            entry.cached_json = summary.model_dump_json(include=ROW_FIELDS, by_alias=True,
                                                        exclude_none=True)
        return entry.cached_json

    def _live_fields(self, entry: Entry, status: Status) -> dict:
        """The summary fields a running turn moves: steps, latest step and message,
        activity."""
        meta = entry.meta
        live = entry.reader.state if entry.reader else None
        if entry.steps is not None:
            step_count = entry.step_count
            latest_step = next((clip(s.summary, LATEST_PREVIEW_CHARS)
                                for s in reversed(entry.steps) if s.kind != "usage"), None)
        elif entry.settled is not None:
            step_count = entry.settled.step_count
            latest_step = entry.settled.latest_step
        else:  # from what zwarm or an earlier daemon recorded; foreign values are ignored
            step_count = sum(n for t in meta.turns if isinstance(n := getattr(t, "steps", 0), int))
            latest_step = getattr(meta, "latest_step", None)
            latest_step = clip(latest_step, LATEST_PREVIEW_CHARS) \
                if isinstance(latest_step, str) else None
        return {"step_count": step_count, "latest_step": latest_step,
                "latest_message": clip(latest_message(meta, live), LATEST_PREVIEW_CHARS) or None,
                "activity": live.activity if live and status.is_active else None}

    def _build_summary(self, entry: Entry) -> SessionSummary:
        meta = entry.meta
        status = Status.FAILED if entry.problem else status_of(meta.status)
        usage, cost = meta_usage(meta), meta.cost_usd
        if entry.foreign.turns and not any(r.ended_at for r in meta.turns):
            # zwarm's own session, read from its files (until a turn of ours records them)
            usage, cost = entry.foreign.usage, entry.foreign.cost(meta.model)
        anchor = None
        with contextlib.suppress(ValidationError):
            anchor = Anchor.model_validate(meta.anchor) if meta.anchor else None
        return SessionSummary(
            id=meta.id, short_id=meta.id[:8], task=clip(meta.task, TASK_PREVIEW_CHARS),
            adapter=meta.adapter,
            model=meta.model, status=status, turn=meta.turn, working_dir=meta.working_dir,
            created_at=meta.created_at, updated_at=meta.updated_at,
            **self._live_fields(entry, status),
            needs_attention=needs_attention(meta), usage=usage, cost_usd=cost,
            error=entry.problem or meta.error, anchor=anchor,
            source=meta.source, exit_code=meta.exit_code, **_change_fields(meta),
        )


def _to_steps(drafts: list[StepDraft], turn: int, first_index: int) -> list[Step]:
    return [Step(index=first_index + i, turn=turn, kind=d.kind, ts=d.ts or now_iso(),
                 summary=d.summary, detail=d.detail, files=d.files, exit_code=d.exit_code)
            for i, d in enumerate(drafts)]


def _reread_steps(store: Store, meta: SessionMeta, turn_starts: dict[int, int], since: int,
                  before: int) -> list[Step]:
    """Steps `since` ≤ index < `before`, parsed again from the turn files that hold them
    (the same bytes give the same steps; timestamps the CLI did not write are the time of
    this reading)."""
    adapter = get_adapter(meta.adapter)
    turns = sorted(turn_starts)
    out: list[Step] = []
    for turn, start in turn_starts.items():
        end = next((turn_starts[t] for t in turns if t > turn), before)
        if end <= since or start >= before:
            continue
        drafts = TurnReader(adapter, store.turn_paths(meta.id, turn).output).read_new(final=True)
        first = max(since - start, 0)
        out += _to_steps(drafts[first:max(before - start, 0)], turn, start + first)
    return sorted(out, key=lambda s: s.index)


def _change_fields(meta: SessionMeta) -> dict:
    """Isolation, change counts, overlaps and executor that the daemon keeps in meta.json;
    a malformed value is left out rather than breaking the summary."""
    extra = meta.model_extra or {}
    fields: dict = {}
    record = extra.get("change_set")
    if isinstance(record, dict) and record.get("isolation") in ("worktree", "inplace"):
        fields["isolation"] = record["isolation"]
    for key, model in (("changes", ChangeCounts),):
        with contextlib.suppress(ValidationError):
            if isinstance(extra.get(key), dict):
                fields[key] = model.model_validate(extra[key])
    with contextlib.suppress(ValidationError, TypeError):
        fields["overlaps"] = [Overlap.model_validate(o) for o in extra.get("overlaps") or []]
    for key in ("executor", "location"):
        if isinstance(extra.get(key), str):
            fields[key] = extra[key]
    return fields


def _abandoned_launch(meta: SessionMeta, paths: TurnPaths) -> str | None:
    """A pending turn whose runner never wrote its record: abandoned when nobody holds its
    launch lock and it has waited longer than any launch takes."""
    written = parse_time(meta.updated_at)
    if written is None or datetime.now(UTC) - written < timedelta(seconds=LAUNCH_GRACE_S):
        return None
    if launch_in_progress(paths) or paths.run.exists():
        return None
    return "the turn's runner was never started (the daemon starting it stopped first)"


def _zwarm_turn_over(entry: Entry) -> bool:
    """A running turn with no runner record was started by zwarm itself, which runs the
    CLI directly and records only its pid: the turn is over once the CLI said so in its
    output, or once that process is gone."""
    if entry.reader is not None and entry.reader.state.outcome is not None:
        return True
    pid = entry.meta.pid  # no pid at all: nothing was ever recorded that could finish it
    return not isinstance(pid, int) or process_start_ticks(pid) is None


def latest_message(meta: SessionMeta, live: TurnState | None = None) -> str:
    if live and live.messages:
        return live.messages[-1]
    for message in reversed(meta.messages):
        if message.get("role") == "assistant" and message.get("content"):
            return str(message["content"])
    return ""


def ended_at(meta: SessionMeta) -> datetime | None:
    record = meta.turn_record(meta.turn)
    return parse_time(record.ended_at if record and record.ended_at else meta.updated_at)


def attention_ends(meta: SessionMeta) -> float:
    """When (epoch seconds) a completed session stops needing attention on its own; inf
    when time alone never changes its needs_attention."""
    done = ended_at(meta) if status_of(meta.status) == Status.COMPLETED else None
    if done is None or not needs_attention(meta):
        return math.inf
    return (done + ATTENTION_WINDOW).timestamp()


def needs_attention(meta: SessionMeta, now: datetime | None = None) -> bool:
    """Failed, or completed within the last minute and not looked at since."""
    status = status_of(meta.status)
    if status == Status.FAILED:
        return True
    if status != Status.COMPLETED:
        return False
    done = ended_at(meta)
    if done is None:
        return False
    viewed = parse_time(meta.viewed_at)
    if viewed is not None and viewed >= done:
        return False
    return (now or datetime.now(UTC)) - done < ATTENTION_WINDOW
