"""The on-disk store: zwarm 3.9 compatibility, id validation, atomic locked updates."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from zwarm_ls.config import load_config
from zwarm_ls.errors import AmbiguousSession, InvalidParams, SessionNotFound, StoreError
from zwarm_ls.protocol import ListParams, SessionRef, Status, TrajectoryParams, WaitParams
from zwarm_ls.service import SessionService
from zwarm_ls.store import Store, validate_id

FIXTURE = Path(__file__).parent / "test_data" / "zwarm39_store"
CODEX = "3f2a9c1e-7b4d-4e8a-9f10-2b3c4d5e6f70"
CLAUDE = "8e7d6c5b-4a39-4281-b7a6-958473625140"
FAILED = "3f2b0000-1111-4222-8333-444455556666"
LEGACY = "c0ffee00-0000-4000-8000-000000000001"


@pytest.fixture
def zwarm_store(tmp_path: Path) -> Path:
    root = tmp_path / "legacy"
    shutil.copytree(FIXTURE, root)
    return root


@pytest.fixture
async def legacy_service(zwarm_store: Path):
    svc = SessionService(load_config(zwarm_store)[0])
    await svc.start()
    yield svc
    await svc.stop()


async def test_every_adapter_and_adapterless_sessions_are_listed(legacy_service):
    result = await legacy_service.list(ListParams())
    by_id = {s.id: s for s in result.sessions}
    assert set(by_id) == {CODEX, CLAUDE, FAILED, LEGACY}
    assert by_id[CLAUDE].adapter == "claude"
    assert by_id[LEGACY].adapter == "codex"  # zwarm rule: no adapter means codex
    assert by_id[FAILED].status == Status.FAILED and by_id[FAILED].needs_attention
    assert result.counts.total == 4 and result.counts.failed == 1
    assert by_id[CODEX].latest_message == "Fixed the off-by-one in app.py; tests pass."
    assert result.sessions[0].id == FAILED  # newest first


async def test_legacy_trajectories_parse_with_their_own_adapter(legacy_service):
    codex = await legacy_service.trajectory(TrajectoryParams(session_id=CODEX[:8]))
    assert [s.kind for s in codex.steps] == ["reasoning", "command", "file_change", "message",
                                              "usage"]
    assert codex.steps[1].summary == "$ pytest -q" and codex.steps[1].exit_code == 0
    assert codex.steps[2].files[0].path == "/home/dev/proj/app.py"
    claude = await legacy_service.trajectory(TrajectoryParams(session_id=CLAUDE[:8]))
    assert [s.kind for s in claude.steps] == ["reasoning", "file_change", "tool_result",
                                               "message", "usage"]
    assert claude.steps[1].files[0].path == "/home/dev/proj/README.md"


async def test_truncated_last_line_of_a_finished_turn_is_skipped_not_fatal(legacy_service):
    failed = await legacy_service.trajectory(TrajectoryParams(session_id=FAILED))
    assert [s.kind for s in failed.steps] == ["error", "error"]
    check = await legacy_service.check(SessionRef(session_id=FAILED))
    assert check.error == "stream disconnected before completion"


def as_running_under_zwarm(store_root: Path, session_id: str, pid: int,
                           keep_lines: int | None = None) -> None:
    """Make a fixture session look like one zwarm 3.9 is running right now: status
    running, its CLI's pid, no runner record of ours; optionally cut its output short."""
    session = store_root / ".zwarm" / "sessions" / session_id
    meta = json.loads((session / "meta.json").read_text())
    meta.update(status="running", pid=pid, exit_code=None)
    (session / "meta.json").write_text(json.dumps(meta))
    if keep_lines is not None:
        turn = session / "turns" / "turn_1.jsonl"
        turn.write_text("".join(turn.read_text().splitlines(keepends=True)[:keep_lines]))


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


async def test_a_turn_zwarm_was_running_settles_when_its_cli_is_done(zwarm_store: Path):
    # Output says the turn completed: settled as completed though the pid looks alive.
    as_running_under_zwarm(zwarm_store, CODEX, pid=os.getpid())
    # Output stops mid-turn and the CLI is gone: failed, not running forever.
    as_running_under_zwarm(zwarm_store, LEGACY, pid=dead_pid(), keep_lines=1)
    # Mid-turn with its CLI alive: still running.
    as_running_under_zwarm(zwarm_store, CLAUDE, pid=os.getpid(), keep_lines=2)
    svc = SessionService(load_config(zwarm_store)[0])
    await svc.start()
    try:
        done = await svc.wait(WaitParams(session_ids=[CODEX], timeout_s=20))
        assert [s.status for s in done.finished] == [Status.COMPLETED]
        done = await svc.wait(WaitParams(session_ids=[LEGACY], timeout_s=20))
        assert [s.status for s in done.finished] == [Status.FAILED]
        assert svc.index.summary(CLAUDE).status == Status.RUNNING
        assert json.loads((zwarm_store / ".zwarm" / "sessions" / CODEX / "meta.json")
                          .read_text())["status"] == "completed"
    finally:
        await svc.stop()


async def test_prefixes_resolve_and_ambiguity_is_reported(legacy_service):
    assert legacy_service.resolve("8e7d") == CLAUDE
    with pytest.raises(AmbiguousSession) as exc:
        legacy_service.resolve("3f2")
    assert "2 sessions" in exc.value.message and exc.value.hint
    with pytest.raises(SessionNotFound):
        legacy_service.resolve("deadbeef")


@pytest.mark.parametrize("bad", ["", "../etc", "a/b", "..", ".hidden", "x" * 129, "a b", "\x00"])
def test_ids_that_could_escape_the_store_are_rejected(bad):
    with pytest.raises(InvalidParams):
        validate_id(bad)


def test_updates_are_atomic_and_keep_foreign_keys(zwarm_store: Path):
    store = Store(zwarm_store)
    meta_path = store.meta_path(CODEX)
    data = json.loads(meta_path.read_text())
    data["someone_elses_key"] = {"kept": True}
    meta_path.write_text(json.dumps(data))
    store.update(CODEX, lambda m: setattr(m, "viewed_at", "2026-11-25T00:00:00+00:00"))
    after = json.loads(meta_path.read_text())
    assert after["someone_elses_key"] == {"kept": True}
    assert after["viewed_at"] == "2026-11-25T00:00:00+00:00"
    assert after["task"] == data["task"] and after["adapter"] == "codex"
    assert not [p for p in meta_path.parent.iterdir() if p.name.endswith(".tmp")]


def test_unreadable_meta_is_reported_not_printed_and_never_overwritten(zwarm_store: Path,
                                                                       capsys):
    store = Store(zwarm_store)
    store.meta_path(CLAUDE).write_text('{"id": "torn')
    meta = store.read_meta(CLAUDE)
    assert meta is not None and meta.unreadable and meta.status == "failed"
    assert meta.error is not None and meta.error.startswith("unreadable meta.json")
    assert capsys.readouterr().out == ""
    with pytest.raises(StoreError):
        store.update(CLAUDE, lambda m: None)
    assert store.meta_path(CLAUDE).read_text() == '{"id": "torn'  # left as it was


WRITER = """
import sys
from zwarm_ls.store import Store
store, sid, tag, n = Store(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
def add(i):
    def change(m):
        m.messages.append({"role": "user", "content": f"{tag}-{i}"})
    return change
for i in range(n):
    store.update(sid, add(i))
"""


def test_two_processes_hundreds_of_updates_none_lost(zwarm_store: Path):
    """Two writers on one store (two daemons): every meta.json read stays valid JSON
    and every update survives."""
    store = Store(zwarm_store)
    before = len(store.read_meta(CODEX).messages)
    per_writer = 150
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(zwarm_store), CODEX, tag,
                                 str(per_writer)]) for tag in ("a", "b")]
    torn = 0
    while any(w.poll() is None for w in writers):
        try:
            json.loads(store.meta_path(CODEX).read_bytes())
        except ValueError:
            torn += 1
    assert [w.wait() for w in writers] == [0, 0]
    assert torn == 0
    contents = [m["content"] for m in store.read_meta(CODEX).messages[before:]]
    assert len(contents) == 2 * per_writer
    for tag in ("a", "b"):
        assert [c for c in contents if c.startswith(tag)] == [f"{tag}-{i}"
                                                               for i in range(per_writer)]
