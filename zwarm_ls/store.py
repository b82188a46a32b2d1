"""The session store on disk, in zwarm's format, safe for several processes at once.

    .zwarm/sessions/<id>/meta.json             zwarm's keys plus ours
    .zwarm/sessions/<id>/turns/turn_N.jsonl    the agent CLI's stdout for turn N
    .zwarm/sessions/<id>/turns/turn_N.*        prompt, stderr, runner and exit records
    .zwarm/zwarm-ls/changes.log                one line per meta.json write (for watchers)

meta.json is replaced atomically (temp file + rename) under a per-session `flock`, so a
reader never sees a torn file and concurrent writers never lose an update. The change
log lets every daemon on the store notice every write with one `stat` per tick.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import shutil
import stat
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .errors import InvalidParams, SessionNotFound, StoreError

log = logging.getLogger(__name__)

_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")
_JOURNAL_LIMIT = 4 * 1024 * 1024
DELETE_ATTEMPTS = 5
META_LIMIT = 32 * 1024 * 1024  # meta.json holds the messages of every turn
JSON_LIMIT = 4 * 1024 * 1024  # run, exit and change records
MAX_TURNS = 10_000


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def parse_time(value: str | None) -> datetime | None:
    """Parse zwarm's naive local timestamps and our aware UTC ones alike."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.astimezone() if parsed.tzinfo is None else parsed


def validate_id(session_id: str) -> str:
    """Reject anything that is not a plain directory name (no traversal, no separators)."""
    if not isinstance(session_id, str) or not _ID_RE.match(session_id):
        raise InvalidParams(
            f"'{session_id}' is not a valid session id",
            hint="session ids are letters, digits, '-' and '_' (a uuid or a prefix of one)",
        )
    return session_id


class TurnRecord(BaseModel):
    model_config = ConfigDict(extra="allow")

    turn: int
    started_at: str | None = None
    ended_at: str | None = None
    status: str = "pending"
    exit_code: int | None = None
    resumed: bool = False
    usage: dict[str, int] = Field(default_factory=dict)
    cost_usd: float | None = None
    error: str | None = None


class SessionMeta(BaseModel):
    """meta.json. zwarm's keys first; unknown keys (from other tools) are preserved."""

    model_config = ConfigDict(extra="allow")

    id: str
    task: str = ""
    status: str = "pending"
    working_dir: str = "."
    created_at: str = ""
    updated_at: str = ""
    pid: int | None = None
    exit_code: int | None = None
    model: str = ""
    turn: int = Field(default=1, ge=1, le=MAX_TURNS)
    messages: list[dict[str, Any]] = Field(default_factory=list)
    token_usage: dict[str, int] = Field(default_factory=dict)
    error: str | None = None
    source: str | None = None
    adapter: str = "codex"  # zwarm 3.9: a session without `adapter` is a codex session
    # zwarm-ls additions
    anchor: dict[str, Any] | None = None
    resume_id: str | None = None
    cost_usd: float | None = None
    turns: list[TurnRecord] = Field(default_factory=list, max_length=MAX_TURNS)
    viewed_at: str | None = None
    # Set only on the stand-in for a meta.json that could not be read.
    unreadable: bool = Field(default=False, exclude=True)

    def turn_record(self, turn: int) -> TurnRecord | None:
        return next((t for t in self.turns if t.turn == turn), None)

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


@dataclass(frozen=True)
class TurnPaths:
    output: Path
    stderr: Path
    prompt: Path
    run: Path
    exit: Path


class Store:
    """All file access to one project's `.zwarm/` directory."""

    def __init__(self, root: Path):
        self.root = Path(root).resolve()
        self.zwarm_dir = self.root / ".zwarm"
        self.sessions_dir = self.zwarm_dir / "sessions"
        self.journal = self.zwarm_dir / "zwarm-ls" / "changes.log"

    # ----- paths -----

    def session_dir(self, session_id: str) -> Path:
        return self.sessions_dir / validate_id(session_id)

    def meta_path(self, session_id: str) -> Path:
        return self.session_dir(session_id) / "meta.json"

    def turn_paths(self, session_id: str, turn: int) -> TurnPaths:
        base = self.session_dir(session_id) / "turns"
        return TurnPaths(
            output=base / f"turn_{turn}.jsonl",
            stderr=base / f"turn_{turn}.stderr",
            prompt=base / f"turn_{turn}.prompt",
            run=base / f"turn_{turn}.run.json",
            exit=base / f"turn_{turn}.exit.json",
        )

    # ----- listing -----

    def list_ids(self) -> list[str]:
        try:
            entries = os.scandir(self.sessions_dir)
        except FileNotFoundError:
            return []
        with entries:
            return [e.name for e in entries if e.is_dir() and _ID_RE.match(e.name)]

    def exists(self, session_id: str) -> bool:
        return self.meta_path(session_id).is_file()

    # ----- meta.json -----

    def read_meta(self, session_id: str) -> SessionMeta | None:
        """The session's meta, or None when it is missing or unreadable (logged, not printed)."""
        path = self.meta_path(session_id)
        try:
            data = json.loads(read_bounded(path, META_LIMIT))
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            data.setdefault("id", session_id)
            if not data.get("adapter"):
                data["adapter"] = "codex"
            return SessionMeta.model_validate(data)
        except FileNotFoundError:
            return None
        except (ValueError, TypeError, OSError) as exc:
            log.warning("session %s: unreadable meta.json (%s)", session_id, exc)
            return unreadable_meta(session_id, exc)

    def create(self, meta: SessionMeta) -> None:
        (self.session_dir(meta.id) / "turns").mkdir(parents=True, exist_ok=False)
        with self._locked(meta.id):
            self._write_meta(meta)

    def update(self, session_id: str, change: Callable[[SessionMeta], None]) -> SessionMeta:
        """Read-modify-write meta.json under the session's lock; returns the new meta."""
        with self._locked(session_id):
            meta = self.read_meta(session_id)
            if meta is None:
                raise SessionNotFound(f"session {session_id} has no readable meta.json")
            if meta.unreadable:
                raise StoreError(f"session {session_id[:8]}: {meta.error}",
                                 hint="fix or remove its meta.json; it is left as it is")
            change(meta)
            self._write_meta(meta)
            return meta

    def _write_meta(self, meta: SessionMeta) -> None:
        meta.updated_at = now_iso()
        write_json_atomic(self.meta_path(meta.id), meta.dump(), indent=2)
        self._journal_append(meta.id)

    @contextlib.contextmanager
    def _locked(self, session_id: str) -> Iterator[None]:
        lock_path = self.session_dir(session_id) / ".lock"
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except FileNotFoundError as exc:
            raise SessionNotFound(f"session {session_id} does not exist") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def delete(self, session_id: str) -> None:
        # Under the session's lock: a writer that held it finishes first, and one that
        # comes later finds no session instead of putting a meta.json back.
        folder = self.session_dir(session_id)
        with contextlib.suppress(SessionNotFound), self._locked(session_id):
            for _ in range(DELETE_ATTEMPTS):
                # A file created while rmtree walks the folder (a runner's last record)
                # leaves it behind: walk again.
                shutil.rmtree(folder, ignore_errors=True)
                if not folder.exists():
                    break
                time.sleep(0.05)
        self._journal_append(session_id)

    # ----- change journal -----

    def _journal_append(self, session_id: str) -> None:
        self.journal.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.journal, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            if os.fstat(fd).st_size > _JOURNAL_LIMIT:
                os.ftruncate(fd, 0)  # readers see the shrink and rescan everything
            os.write(fd, f"{session_id}\n".encode())
        finally:
            os.close(fd)

    def read_journal(self, offset: int) -> tuple[set[str] | None, int]:
        """Session ids written since `offset`, and the new offset.

        None instead of a set means the journal was truncated: rescan everything.
        """
        try:
            size = self.journal.stat().st_size
        except FileNotFoundError:
            return (set() if offset == 0 else None), 0
        if size < offset:
            return None, 0
        if size == offset:
            return set(), offset
        with open(self.journal, "rb") as f:
            f.seek(offset)
            data = f.read(size - offset)
        end = data.rfind(b"\n") + 1  # a line still being written waits for the next read
        ids = {line.decode(errors="replace") for line in data[:end].split(b"\n") if line}
        return ids, offset + end

    @staticmethod
    def new_id() -> str:
        return str(uuid.uuid4())


def write_json_atomic(path: Path, data: Any, indent: int | None = None) -> None:
    """Write JSON so that readers see either the old file or the whole new one."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=indent)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def read_bounded(path: Path, limit: int) -> bytes:
    """A regular file's bytes, refusing FIFOs, devices and files over `limit` (a FIFO in
    place of a store file must not hang the daemon, nor a huge one fill its memory)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"{path.name} is not a regular file")
        if info.st_size > limit:
            raise ValueError(f"{path.name} is {info.st_size} bytes, over the {limit} limit")
        return handle.read(limit + 1)[:limit]


def unreadable_meta(session_id: str, exc: Exception) -> SessionMeta:
    """Stands in for a meta.json that cannot be read, so the session is listed with the
    reason instead of breaking the list (and is never written back)."""
    reason = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
    return SessionMeta(id=session_id, task="(unreadable session)", status="failed",
                       error=f"unreadable meta.json: {reason}", unreadable=True)


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(read_bounded(path, JSON_LIMIT))
    except (FileNotFoundError, ValueError, OSError):
        return None
    return data if isinstance(data, dict) else None
