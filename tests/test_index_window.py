"""A session with far more steps than the daemon keeps in memory: the index holds a
window of the newest steps, every step is still delivered once while it streams, and a
full trajectory re-reads the older ones from the turn file, identical to what was sent."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from zwarm_ls import index as index_module
from zwarm_ls.index import STEP_WINDOW, Index
from zwarm_ls.runner import process_start_ticks
from zwarm_ls.store import SessionMeta, Store, TurnRecord, now_iso, write_json_atomic
from zwarm_ls.turns import ExitRecord

STEPS = STEP_WINDOW * 3 + 17


def codex_line(n: int) -> bytes:
    item = {"id": f"item_{n}", "type": "command_execution", "command": f"echo {n}",
            "aggregated_output": f"{n}\n", "exit_code": 0, "status": "completed"}
    return json.dumps({"type": "item.completed", "item": item}).encode() + b"\n"


def running_session(store: Store) -> str:
    now = now_iso()
    meta = SessionMeta(id=store.new_id(), task="many steps", status="running",
                       working_dir=str(store.root), created_at=now, updated_at=now,
                       model="gpt-5.1-codex-mini", turn=1, adapter="codex",
                       turns=[TurnRecord(turn=1, status="running", started_at=now)])
    store.create(meta)
    pid = os.getpid()  # this process stands in for the turn's runner: alive throughout
    write_json_atomic(store.turn_paths(meta.id, 1).run,
                      {"pid": pid, "pgid": os.getpgid(pid), "start_ticks": process_start_ticks(pid),
                       "started_at": now})
    return meta.id


def test_a_long_session_keeps_a_window_and_loses_no_step(tmp_path: Path) -> None:
    store = Store(tmp_path)
    session_id = running_session(store)
    output = store.turn_paths(session_id, 1).output
    index = Index(store)
    index.refresh()
    delivered = []
    with output.open("ab") as f:
        for start in range(0, STEPS, 500):
            f.write(b"".join(codex_line(n) for n in range(start, min(start + 500, STEPS))))
            f.flush()
            for change in index.refresh():
                delivered += change.new_steps
    assert [s.index for s in delivered] == list(range(STEPS))  # none lost, none twice
    entry = index._entries[session_id]
    assert entry.steps is not None and len(entry.steps) <= STEP_WINDOW + STEP_WINDOW // 4
    assert index.summary(session_id).step_count == STEPS
    # The summary kept current field by field while streaming equals one built afresh.
    assert index.summary(session_id) == index._build_summary(entry)

    everything = index.steps(session_id, 0)
    assert [s.index for s in everything] == list(range(STEPS))
    assert [s.summary for s in everything] == [s.summary for s in delivered]
    middle = index.steps(session_id, 1234)
    assert [s.index for s in middle] == list(range(1234, STEPS))
    assert index.steps(session_id, STEPS) == []


def test_a_finished_long_session_read_later_is_windowed_too(tmp_path: Path,
                                                            monkeypatch) -> None:
    monkeypatch.setattr(index_module, "STEP_WINDOW", 100)
    store = Store(tmp_path)
    session_id = running_session(store)
    paths = store.turn_paths(session_id, 1)
    paths.output.write_bytes(b"".join(codex_line(n) for n in range(1000)))
    write_json_atomic(paths.exit, ExitRecord(exit_code=0, killed=False,
                                             ended_at=now_iso()).dump())
    index = Index(store)
    index.refresh()
    steps = index.steps(session_id, 0)
    assert [s.index for s in steps] == list(range(1000))
    assert [s.summary for s in steps[:2]] == [s.summary for s in index.steps(session_id, 0)[:2]]
    assert len(index._entries[session_id].steps or []) <= 125
    assert [s.index for s in index.steps(session_id, 950)] == list(range(950, 1000))


def test_a_backlog_is_read_in_slices_and_settled_after_its_last_line(tmp_path: Path) -> None:
    store = Store(tmp_path)
    session_id = running_session(store)
    paths = store.turn_paths(session_id, 1)
    index = Index(store)
    index.refresh()
    count = 20_000
    done = json.dumps({"type": "turn.completed", "usage": {"input_tokens": 5}}).encode()
    paths.output.write_bytes(b"".join(codex_line(n) for n in range(count)) + done + b"\n")
    write_json_atomic(paths.exit, ExitRecord(exit_code=0, killed=False,
                                             ended_at=now_iso()).dump())
    delivered, refreshes, statuses = [], 0, []
    while True:
        changes = index.refresh()
        refreshes += 1
        for change in changes:
            delivered += change.new_steps
            statuses.append(change.summary.status.value if change.summary else None)
        if not index.behind:
            break
        assert index.summary(session_id).status.value == "running"  # not before the end
    assert refreshes >= paths.output.stat().st_size // index_module.TAIL_SLICE_BYTES
    assert [s.index for s in delivered if s.kind != "usage"] == list(range(count))
    assert statuses[-1] == "completed"


def test_a_runner_that_records_itself_after_the_check_is_left_alone(tmp_path: Path) -> None:
    """The liveness check saw no runner record; the runner wrote it a moment later. The
    settling must see it and neither fail the turn nor stop the group it names."""
    store = Store(tmp_path)
    session_id = running_session(store)
    paths = store.turn_paths(session_id, 1)
    runner = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                              start_new_session=True)
    try:
        write_json_atomic(paths.run, {"pid": runner.pid, "pgid": runner.pid,
                                      "start_ticks": process_start_ticks(runner.pid),
                                      "started_at": now_iso()})
        index = Index(store)
        settled = index._settle_orphan(session_id, 1, paths, "the agent's process is gone")
        assert settled is None
        assert not paths.exit.exists()
        assert runner.poll() is None  # its group was not stopped
    finally:
        runner.kill()
        runner.wait()
