"""Sessions zwarm itself wrote: their step counts, usage and cost come from their turn
files (zwarm kept only the last turn's counts, and no cost at all). Reading those files
is the one start-up cost that grows with the store's bytes (100 MB for 1,000 sessions), so
what it taught is kept in `.zwarm/zwarm-ls/settled.json`, keyed by each turn file's size
and modification time: a later start, or a second editor's daemon, reads only the
sessions whose files changed."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from typing import Any

from .adapters import get_adapter
from .adapters.base import TurnState
from .costs import estimate_cost
from .protocol import TokenUsage
from .store import SessionMeta, Store, read_bounded, write_json_atomic
from .text import clip
from .turns import TurnReader

log = logging.getLogger(__name__)

CACHE_VERSION = 1
CACHE_LIMIT = 64 * 1024 * 1024
Stamps = list[list[int]]  # per turn file: [turn, size, mtime_ns]


@dataclass
class ForeignTotals:
    """Usage and cost of a session zwarm wrote, summed over its turn files."""

    turns: set[int] = field(default_factory=set)
    usage: TokenUsage = field(default_factory=TokenUsage)
    reported: list[float] = field(default_factory=list)
    # The last running total seen per thread, for CLIs that report one (Codex resume).
    thread_totals: dict[str, TokenUsage] = field(default_factory=dict)

    def add(self, turn: int, state: TurnState, cumulative: bool) -> None:
        """Count turn `turn` (read in order) once. A resumed Codex thread reports the
        thread's running total, so only what it added since the thread's last turn counts."""
        if turn in self.turns:
            return
        self.turns.add(turn)
        own = state.usage
        if cumulative and state.resume_id:
            earlier = self.thread_totals.get(state.resume_id)
            self.thread_totals[state.resume_id] = state.usage
            if earlier is not None:
                own = state.usage.minus(earlier)
        self.usage = self.usage.plus(own)
        if state.reported_cost is not None:
            self.reported.append(state.reported_cost)

    def cost(self, model: str) -> float | None:
        if self.reported:
            return round(sum(self.reported), 6)
        return estimate_cost(model, self.usage)

    def dump(self) -> dict[str, Any]:
        return {"turns": sorted(self.turns), "usage": self.usage.model_dump(),
                "reported": self.reported,
                "thread_totals": {k: v.model_dump() for k, v in self.thread_totals.items()}}

    @classmethod
    def load(cls, data: dict[str, Any]) -> ForeignTotals:
        return cls(turns=set(data["turns"]), usage=_usage(data["usage"]),
                   reported=[float(r) for r in data["reported"]],
                   thread_totals={k: _usage(v) for k, v in data["thread_totals"].items()})


def _usage(dumped: dict[str, Any]) -> TokenUsage:
    """A TokenUsage from its dump (which carries the computed total as well)."""
    return TokenUsage(**{k: v for k, v in dumped.items() if k in TokenUsage.model_fields})


@dataclass
class Settled:
    """What reading a finished zwarm session's turn files taught, without its steps."""

    totals: ForeignTotals
    step_count: int
    latest_step: str | None


def settle_turns(store: Store, meta: SessionMeta, preview_chars: int) -> Settled:
    """Count a finished zwarm session's steps and sum its usage from its turn files."""
    adapter = get_adapter(meta.adapter)
    totals, count, latest = ForeignTotals(), 0, None
    for turn in range(1, meta.turn + 1):
        reader = TurnReader(adapter, store.turn_paths(meta.id, turn).output)
        drafts = reader.read_new(final=True)
        count += len(drafts)
        latest = next((clip(d.summary, preview_chars) for d in reversed(drafts)
                       if d.kind != "usage"), latest)
        totals.add(turn, reader.state, adapter.cumulative_usage)
    return Settled(totals, count, latest)


def turn_stamps(store: Store, meta: SessionMeta) -> Stamps:
    """Size and modification time of each turn file (a missing one is [turn, -1, 0])."""
    stamps = []
    for turn in range(1, meta.turn + 1):
        try:
            stat = os.stat(store.turn_paths(meta.id, turn).output)
            stamps.append([turn, stat.st_size, stat.st_mtime_ns])
        except OSError:
            stamps.append([turn, -1, 0])
    return stamps


class SettledCache:
    """settled.json: per session, its turn files' stamps and what reading them taught.
    A damaged or foreign file is ignored (and rewritten); two daemons writing it at once
    each write whole files (the last one wins, and both hold the same facts). Used by one
    thread at a time (the index's background settling)."""

    def __init__(self, store: Store):
        self.path = store.journal.parent / "settled.json"
        self._entries: dict[str, Any] = {}
        self._dirty = False

    def load(self) -> None:
        try:
            data = json.loads(read_bounded(self.path, CACHE_LIMIT))
        except (OSError, ValueError):
            return
        if isinstance(data, dict) and data.get("version") == CACHE_VERSION and \
                isinstance(data.get("sessions"), dict):
            self._entries = data["sessions"]

    def get(self, session_id: str, stamps: Stamps) -> Settled | None:
        entry = self._entries.get(session_id)
        if not isinstance(entry, dict) or entry.get("stamps") != stamps:
            return None
        try:
            latest = entry["latest_step"]
            return Settled(ForeignTotals.load(entry["totals"]), int(entry["step_count"]),
                           latest if isinstance(latest, str) else None)
        except (KeyError, TypeError, ValueError, AttributeError):
            return None  # a damaged entry: read the files again

    def put(self, session_id: str, stamps: Stamps, settled: Settled) -> None:
        self._entries[session_id] = {
            "stamps": stamps, "step_count": settled.step_count,
            "latest_step": settled.latest_step, "totals": settled.totals.dump()}
        self._dirty = True

    def save(self, keep: set[str]) -> None:
        """Write what changed, for the sessions in `keep` (deleted ones are dropped)."""
        if not self._dirty and set(self._entries) <= keep:
            return
        sessions = {k: v for k, v in self._entries.items() if k in keep}
        self._dirty = False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_json_atomic(self.path, {"version": CACHE_VERSION, "sessions": sessions})
        except OSError as exc:  # a read-only store: the next start reads the files again
            log.warning("cannot write %s: %s", self.path, exc)
