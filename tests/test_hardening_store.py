"""Store files that would hang or mislead the daemon, through the real daemon: a FIFO in
place of a turn file, a session left `pending` or `running` by a daemon or tool that died
before anyone could supervise it, a huge meta.json. Each is answered or settled with the
reason; nothing hangs and the rest of the store keeps working."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from pathlib import Path

from tests.lsp.conftest import start_client  # noqa: F401 - the daemon fixture
from tests.lsp_helpers import request
from zwarm_ls.index import Index
from zwarm_ls.store import Store

LONG_AGO = "2026-01-01T00:00:00+00:00"


def write_session(project: Path, **fields: object) -> tuple[str, Path]:
    session_id = str(uuid.uuid4())
    folder = project / ".zwarm" / "sessions" / session_id
    (folder / "turns").mkdir(parents=True)
    meta = {"id": session_id, "task": "t", "status": "completed", "working_dir": str(project),
            "created_at": LONG_AGO, "updated_at": LONG_AGO, "turn": 1, **fields}
    (folder / "meta.json").write_text(json.dumps(meta))
    return session_id, folder


async def settled_check(client, session_id: str) -> dict:
    """checkSession once the session is no longer active (it may be settled by the first
    index build, before any update could be pushed)."""
    async def poll() -> dict:
        while True:
            check = await request(client, "zwarm/checkSession", {"sessionId": session_id})
            if check["status"] not in ("pending", "running"):
                return check
            await asyncio.sleep(0.1)
    return await asyncio.wait_for(poll(), 30)


async def test_a_fifo_for_a_turn_file_is_an_error_step_not_a_hang(
        start_client, project: Path) -> None:  # noqa: F811
    good, _ = write_session(project, task="fine")
    fifo, folder = write_session(project)  # zwarm's shape: read in the background at start
    os.mkfifo(folder / "turns" / "turn_1.jsonl")

    client, _ = await start_client()
    trajectory = await request(client, "zwarm/getTrajectory", {"sessionId": fifo}, timeout=10)
    assert [(s["kind"], s["summary"]) for s in trajectory["steps"]] == [
        ("error", "turn_1.jsonl is not a regular file; its output is not read")]
    listed = await request(client, "zwarm/listSessions", {}, timeout=10)
    assert {s["id"] for s in listed["sessions"]} == {good, fifo}


async def test_a_pending_turn_whose_daemon_died_before_its_runner_is_failed(
        start_client, project: Path) -> None:  # noqa: F811
    # What a daemon killed between writing meta.json and starting the runner leaves.
    session_id, _ = write_session(project, status="pending", adapter="codex",
                                  turns=[{"turn": 1, "status": "pending"}])
    client, _ = await start_client()
    check = await settled_check(client, session_id)
    assert check["status"] == "failed"
    assert check["error"].startswith("the turn's runner was never started")


async def test_a_running_turn_with_no_runner_and_no_pid_is_failed(
        start_client, project: Path) -> None:  # noqa: F811
    session_id, folder = write_session(project, status="running", pid=None, turn=3)
    (folder / "turns" / "turn_3.jsonl").write_text(json.dumps(
        {"type": "item.completed", "item": {"type": "agent_message", "text": "half"}}) + "\n")
    client, _ = await start_client()
    check = await settled_check(client, session_id)
    assert check["status"] == "failed" and check["error"] == "the agent's process is gone"
    assert check["response"] == "half"  # what it said is kept


async def test_a_huge_meta_json_is_reported_without_being_read(
        start_client, project: Path) -> None:  # noqa: F811
    good, _ = write_session(project, task="fine")
    huge, folder = write_session(project)
    with open(folder / "meta.json", "r+b") as f:
        f.truncate(64 * 1024 * 1024)  # sparse: costs nothing to write, a lot to read
    client, _ = await start_client()
    listed = await request(client, "zwarm/listSessions", {}, timeout=10)
    by_id = {s["id"]: s for s in listed["sessions"]}
    assert by_id[good]["task"] == "fine"
    assert by_id[huge]["error"].startswith("unreadable meta.json: meta.json is 67108864 bytes")


def test_the_index_says_when_its_first_build_is_done(project: Path) -> None:
    """What a request arriving at start-up waits on (SessionService.wait_ready), so it is
    answered from the whole store, not from the sessions read so far."""
    write_session(project)
    built = Index(Store(project))
    assert not built.wait_ready(0)
    built.refresh()
    assert built.ready.is_set() and built.wait_ready(0) and len(built.summaries()) == 1
