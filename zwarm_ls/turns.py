"""One turn of a session: reading its JSONL output incrementally, and settling how it
ended (status, messages, usage, cost) into meta.json.

`finalize_turn` is the single place a turn's outcome is decided. The runner calls it
when the CLI exits; a daemon calls it only if the runner could not (it was SIGKILLed).
It is idempotent, so both calling it is harmless.
"""

from __future__ import annotations

import logging
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from .adapters import Adapter, StepDraft, TurnState, get_adapter
from .costs import estimate_cost
from .protocol import TokenUsage
from .store import SessionMeta, Store, TurnRecord, now_iso, read_json

log = logging.getLogger(__name__)

_CHUNK = 1 << 20
# One event line longer than this is dropped (an error step says so), so a stream that
# never sends a newline cannot fill the daemon's memory. Real messages are far shorter.
MAX_LINE_BYTES = 64 * 1024 * 1024


@dataclass
class TurnReader:
    """Tails one turn file by byte offset; a partial last line waits for its newline."""

    adapter: Adapter
    path: Path
    offset: int = 0
    partial: bytearray = field(default_factory=bytearray)
    state: TurnState = field(default_factory=TurnState)
    # Bytes of an over-long line still being skipped (its start was already dropped).
    skipping: bool = False
    refused: bool = False  # the path is not a regular file: said once, never read
    at_end: bool = True  # whether the last read reached the end of the file
    _handle: BinaryIO | None = field(default=None, repr=False, compare=False)

    def read_new(self, final: bool = False, max_bytes: int | None = None) -> list[StepDraft]:
        """Steps from bytes written since the last call, at most about `max_bytes` of them
        (a follower reading a huge backlog takes it in slices; `at_end` says whether more
        is waiting). `final` flushes a last line that has no newline (the writer is gone,
        so it will never get one) once the end is reached."""
        steps: list[StepDraft] = []
        if self.refused:
            return steps
        f = self._file()
        if self.refused:
            reason = f"{self.path.name} is not a regular file; its output is not read"
            return [StepDraft("error", reason, detail=str(self.path))]
        if f is not None:
            f.seek(self.offset)
            budget = max_bytes if max_bytes is not None else -1
            self.at_end = False
            while budget != 0:
                chunk = f.read(_CHUNK if budget < 0 else min(_CHUNK, budget))
                if not chunk:
                    self.at_end = True
                    break
                self.offset += len(chunk)
                budget = budget - len(chunk) if budget > 0 else budget
                steps.extend(self._feed(chunk))
        final = final and self.at_end
        if final and self.partial:
            steps.extend(self.adapter.parse_line(bytes(self.partial), self.state))
            self.partial.clear()
        self.skipping = self.skipping and not final
        if final:
            self.close()
        return steps

    def _file(self) -> BinaryIO | None:
        """The turn file, opened once and kept open while it is followed: a follower of
        fifty streaming turns would otherwise open and close files hundreds of times a
        second (and every open is a file-system event for the watcher)."""
        if self._handle is None:
            try:
                # O_NONBLOCK: a FIFO in place of the turn file must not block the daemon.
                fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)
            except FileNotFoundError:
                return None
            handle = os.fdopen(fd, "rb")
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                handle.close()
                self.refused = True
                return None
            self._handle = handle
        return self._handle

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def _feed(self, chunk: bytes) -> list[StepDraft]:
        steps: list[StepDraft] = []
        start = 0
        while (end := chunk.find(b"\n", start)) != -1:
            if self.skipping:  # the rest of a line already reported as too long
                self.skipping = False
            elif self.partial:
                self.partial += chunk[start:end]
                line = bytes(self.partial)
                self.partial.clear()
                steps.extend(self._line(line))
            else:
                steps.extend(self._line(chunk[start:end]))
            start = end + 1
        if not self.skipping:
            self.partial += chunk[start:]
            if len(self.partial) > MAX_LINE_BYTES:
                steps.append(self._too_long(bytes(self.partial[:200])))
                self.partial.clear()
                self.skipping = True
        return steps

    def _line(self, line: bytes) -> list[StepDraft]:
        if len(line) > MAX_LINE_BYTES:
            return [self._too_long(line[:200])]
        return self.adapter.parse_line(line, self.state)

    def _too_long(self, head: bytes) -> StepDraft:
        self.state.malformed_lines += 1
        return StepDraft("error", f"an output line over {MAX_LINE_BYTES >> 20} MiB was skipped",
                         detail=head.decode("utf-8", errors="replace") + " …")


@dataclass(frozen=True)
class ExitRecord:
    exit_code: int | None
    killed: bool = False
    reason: str | None = None
    ended_at: str = ""

    @classmethod
    def read(cls, path: Path) -> ExitRecord | None:
        data = read_json(path)
        if data is None:
            return None
        return cls(exit_code=data.get("exit_code"), killed=bool(data.get("killed")),
                   reason=data.get("reason"), ended_at=data.get("ended_at") or "")

    def dump(self) -> dict:
        return {"exit_code": self.exit_code, "killed": self.killed, "reason": self.reason,
                "ended_at": self.ended_at or now_iso()}


def stderr_tail(path: Path, limit: int = 600) -> str | None:
    """The last lines of a CLI's stderr, for an error message when it said nothing else."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as f:
            info = os.fstat(f.fileno())
            if not stat.S_ISREG(info.st_mode):
                return None
            f.seek(max(info.st_size - 4000, 0))
            data = f.read(4000).decode(errors="replace").strip()
    except OSError:
        return None
    lines = [ln for ln in data.splitlines() if ln.strip()]
    return "\n".join(lines[-5:])[-limit:] if lines else None


def turn_usage(meta: SessionMeta, turn: int, reported: TokenUsage, resume_id: str | None,
               cumulative: bool) -> TokenUsage:
    """This turn's own usage. A CLI that reports a running total for a resumed thread
    (Codex) gets the earlier turns of the same thread subtracted; no double counting."""
    if not cumulative or not resume_id:
        return reported
    earlier = TokenUsage()
    for rec in meta.turns:
        if rec.turn < turn and getattr(rec, "resume_id", None) == resume_id:
            earlier = earlier.plus(TokenUsage.model_validate(rec.usage))
    return reported.minus(earlier)


def usage_dict(usage: TokenUsage) -> dict[str, int]:
    """zwarm's token_usage keys (snake_case, with total_tokens)."""
    return usage.model_dump()


def record_earlier_turns(store: Store, meta: SessionMeta, adapter: Adapter, turn: int) -> None:
    """Give the turns before `turn` that have no record (a session zwarm wrote, which kept
    only its last turn's usage and no cost) one, read from their turn files, so totals
    over the records count every turn. In order, so a resumed thread's running total is
    counted by what each turn added."""
    for n in range(1, turn):
        if meta.turn_record(n) is not None:
            continue
        reader = TurnReader(adapter, store.turn_paths(meta.id, n).output)
        steps = reader.read_new(final=True)
        state = reader.state
        usage = turn_usage(meta, n, state.usage, state.resume_id, adapter.cumulative_usage)
        rec = TurnRecord(turn=n, ended_at=meta.updated_at or now_iso(),
                         status=adapter.outcome(state, None).status, usage=usage_dict(usage),
                         cost_usd=state.reported_cost if state.reported_cost is not None
                         else estimate_cost(meta.model, usage))
        rec.resume_id = state.resume_id  # type: ignore[attr-defined]
        rec.steps = len(steps)  # type: ignore[attr-defined]
        rec.read_from_turn_file = True  # type: ignore[attr-defined]
        meta.turns.append(rec)
    meta.turns.sort(key=lambda r: r.turn)


def finalize_turn(store: Store, session_id: str, turn: int, exit_rec: ExitRecord) -> SessionMeta:
    """Settle turn `turn` into meta.json from its output file and exit record."""
    meta = store.read_meta(session_id)
    if meta is None:
        raise FileNotFoundError(f"session {session_id} has no meta.json")
    adapter = get_adapter(meta.adapter)
    paths = store.turn_paths(session_id, turn)
    reader = TurnReader(adapter, paths.output)
    steps = reader.read_new(final=True)
    state = reader.state
    if exit_rec.killed:
        status = "killed"
        error = f"ended: {exit_rec.reason}" if exit_rec.reason else "ended by user"
    else:
        outcome = adapter.outcome(state, exit_rec.exit_code)
        status, error = outcome.status, outcome.error
        if status == "failed" and exit_rec.reason:
            error = exit_rec.reason  # the runner's fate says more than the agent's silence
        elif status == "failed" and (not error or "exited with code" in error):
            error = stderr_tail(paths.stderr) or error
    if state.malformed_lines:
        log.warning("session %s turn %d: %d malformed output lines skipped",
                    session_id, turn, state.malformed_lines)

    def settle(m: SessionMeta) -> None:
        rec = m.turn_record(turn)
        if rec is None:
            rec = TurnRecord(turn=turn)
            m.turns.append(rec)
        if rec.ended_at:
            return  # already settled by someone else
        record_earlier_turns(store, m, adapter, turn)
        resume_id = state.resume_id or m.resume_id
        usage = turn_usage(m, turn, state.usage, resume_id, adapter.cumulative_usage)
        cost = state.reported_cost if state.reported_cost is not None \
            else estimate_cost(m.model, usage)
        rec.ended_at = exit_rec.ended_at or now_iso()
        rec.status, rec.exit_code, rec.error = status, exit_rec.exit_code, error
        rec.usage, rec.cost_usd = usage_dict(usage), cost
        rec.resume_id = state.resume_id  # type: ignore[attr-defined]
        rec.steps = len(steps)  # type: ignore[attr-defined]
        rec.malformed_lines = state.malformed_lines  # type: ignore[attr-defined]
        m.messages.extend({"role": "assistant", "content": text, "timestamp": rec.ended_at,
                           "metadata": {"turn": turn}} for text in state.messages)
        if m.turn == turn:
            m.status, m.exit_code, m.error, m.pid = status, exit_rec.exit_code, error, None
        if state.resume_id:
            m.resume_id = state.resume_id
        total = TokenUsage()
        for r in m.turns:
            total = total.plus(TokenUsage.model_validate(
                {k: v for k, v in r.usage.items() if k != "total_tokens"}))
        m.token_usage = usage_dict(total)
        costs = [r.cost_usd for r in m.turns if r.cost_usd is not None]
        m.cost_usd = round(sum(costs), 6) if costs else None
        telling = [s for s in steps if s.kind != "usage"]
        if telling:
            m.latest_step = telling[-1].summary  # type: ignore[attr-defined]

    return store.update(session_id, settle)
