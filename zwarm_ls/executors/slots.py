"""At most `[executor] max_concurrent` remote turns of a store run at once; the rest wait
in arrival order, and each waiting session shows its place (`queued: position N`).

The state is a folder of small files under `.zwarm/ray/`, changed under one `flock`, so
relays of several daemons on one store share the same limit. An entry names its relay by
pid and start time: a relay that died (SIGKILL) frees its place on the next look.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from ..runner import process_start_ticks

WAIT_S = 0.5


class Slots:
    def __init__(self, zwarm_dir: Path, limit: int):
        self.dir = zwarm_dir / "ray"
        self.limit = max(1, limit)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        for sub in ("queue", "running"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        with open(self.dir / "slots.lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @staticmethod
    def _alive(entry: Path) -> bool:
        try:
            owner = json.loads(entry.read_text())
        except (OSError, ValueError):
            return False
        return process_start_ticks(owner["pid"]) == owner["start_ticks"]

    def _live(self, sub: str) -> list[Path]:
        entries = []
        for entry in sorted((self.dir / sub).iterdir()):
            if self._alive(entry):
                entries.append(entry)
            else:
                entry.unlink(missing_ok=True)
        return entries

    def wait_turn(self, session_id: str, turn: int, show: Callable[[str], None],
                  on_queued: Callable[[], None], stopped: Callable[[], bool]) -> None:
        """Return when this turn may start (or `stopped()` says to give up)."""
        me = f"{session_id}-t{turn}"
        owner = json.dumps({"pid": os.getpid(), "start_ticks": process_start_ticks(os.getpid())})
        with self._locked():
            (self.dir / "queue" / f"{time.time_ns():020d}-{me}").write_text(owner)
        shown: int | None = None
        while not stopped():
            with self._locked():
                running = self._live("running")
                queue = self._live("queue")
                place = next(i for i, e in enumerate(queue) if e.name.endswith(me))
                free = self.limit - len(running)
                if place < free:
                    queue[place].rename(self.dir / "running" / me)
                    return
            position = place - max(free, 0) + 1
            if position != shown:
                show(f"queued: position {position}")
                if shown is None:
                    on_queued()
                shown = position
            time.sleep(WAIT_S)

    def release(self, session_id: str, turn: int) -> None:
        me = f"{session_id}-t{turn}"
        with self._locked():
            (self.dir / "running" / me).unlink(missing_ok=True)
            for entry in (self.dir / "queue").glob(f"*-{me}"):
                entry.unlink(missing_ok=True)
