"""zwarm/listSessions: every session of the store, even for a request that arrives while
the daemon is still building its index."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import pytest
from pygls.exceptions import JsonRpcException

from tests.lsp_helpers import request

from .conftest import TIMEOUT

STORE_SIZE = 400


async def test_a_list_right_after_start_is_complete(start_client, project: Path) -> None:
    sessions = project / ".zwarm" / "sessions"
    for n in range(STORE_SIZE):
        folder = sessions / str(uuid.uuid4()) / "turns"
        folder.mkdir(parents=True)
        (folder.parent / "meta.json").write_text(json.dumps({
            "task": f"task {n}", "status": "completed", "turn": 1,
            "created_at": f"2026-01-01T00:{n // 60:02d}:{n % 60:02d}+00:00",
            "updated_at": "2026-01-01T01:00:00+00:00"}))
    client, _ = await start_client()  # initialize + initialized, then at once:
    listed = await request(client, "zwarm/listSessions", {})
    assert listed["counts"]["total"] == STORE_SIZE
    assert len(listed["sessions"]) == STORE_SIZE


def write_sessions(project: Path, count: int, task: str = "task") -> list[str]:
    """`count` finished sessions in zwarm's format, created one second apart."""
    sessions = project / ".zwarm" / "sessions"
    ids = []
    for n in range(count):
        session_id = str(uuid.uuid4())
        folder = sessions / session_id / "turns"
        folder.mkdir(parents=True)
        (folder.parent / "meta.json").write_text(json.dumps({
            "task": f"{task} {n}", "status": "failed" if n % 5 == 0 else "completed",
            "turn": 1, "created_at": f"2026-01-01T00:{n // 60:02d}:{n % 60:02d}+00:00",
            "updated_at": "2026-01-01T01:00:00+00:00"}))
        ids.append(session_id)
    return ids


async def request_error(client, method: str, params: dict) -> JsonRpcException:
    with pytest.raises(JsonRpcException) as exc:
        await request(client, method, params)
    return exc.value


async def test_pages_with_a_cursor_cover_the_list_once_in_order(start_client,
                                                                project: Path) -> None:
    write_sessions(project, 23)
    client, _ = await start_client()
    whole = await request(client, "zwarm/listSessions", {})
    assert "nextCursor" not in whole
    seen, cursor = [], None
    while True:
        page = await request(client, "zwarm/listSessions",
                             {"limit": 10} | ({"cursor": cursor} if cursor else {}))
        assert page["counts"] == whole["counts"]  # counts are over every session
        seen += [s["id"] for s in page["sessions"]]
        cursor = page.get("nextCursor")
        if cursor is None:
            break
        assert len(page["sessions"]) == 10
    assert seen == [s["id"] for s in whole["sessions"]]
    assert len(seen) == 23


async def test_a_status_filter_and_fields_trim_what_is_sent(start_client, project: Path) -> None:
    write_sessions(project, 10)
    client, _ = await start_client()
    failed = await request(client, "zwarm/listSessions",
                           {"status": "failed", "fields": ["status", "shortId"]})
    assert [set(s) for s in failed["sessions"]] == [{"id", "status", "shortId"}] * 2
    assert failed["counts"]["total"] == 10 and failed["counts"]["failed"] == 2


async def test_the_list_sends_rows_and_details_on_request(start_client, project: Path) -> None:
    write_sessions(project, 3)
    client, _ = await start_client()
    rows = (await request(client, "zwarm/listSessions", {}))["sessions"]
    paged = (await request(client, "zwarm/listSessions", {"limit": 2}))["sessions"]
    details = {"workingDir", "createdAt", "usage", "source", "exitCode", "latestMessage"}
    for row in [*rows, *paged]:
        assert {"id", "shortId", "task", "status", "turn", "updatedAt", "stepCount"} <= set(row)
        assert not details & set(row), row  # a list renders none of them
    assert paged == rows[:2]  # a page is the same rows
    asked = await request(client, "zwarm/listSessions", {"fields": ["usage", "workingDir"]})
    assert all(set(s) == {"id", "usage", "workingDir"} for s in asked["sessions"])


async def test_bad_list_params_are_refused_with_the_field(start_client, project: Path) -> None:
    write_sessions(project, 3)
    client, _ = await start_client()
    for params, field in [({"limit": 0}, "limit"), ({"fields": ["nope"]}, "nope"),
                          ({"cursor": "not-a-cursor"}, "cursor")]:
        error = await request_error(client, "zwarm/listSessions", params)
        assert error.code == -32602, params
        assert field in error.message, error.message


async def test_a_long_task_is_a_bounded_preview_and_check_has_it_whole(start_client,
                                                                       project: Path) -> None:
    long_task = "refactor the parser " * 500
    [session_id] = write_sessions(project, 1, task=long_task)
    client, _ = await start_client()
    [summary] = (await request(client, "zwarm/listSessions", {}))["sessions"]
    assert len(summary["task"]) <= 200 and summary["task"].endswith("…")
    checked = await request(client, "zwarm/checkSession", {"sessionId": session_id})
    assert checked["task"] == f"{long_task} 0"


async def test_a_change_on_disk_shows_in_the_next_list(start_client, project: Path) -> None:
    [session_id] = write_sessions(project, 1)
    client, _ = await start_client()
    before = await request(client, "zwarm/listSessions", {})
    assert before["sessions"][0]["status"] == "failed"
    meta = project / ".zwarm" / "sessions" / session_id / "meta.json"
    data = json.loads(meta.read_text())
    meta.write_text(json.dumps(data | {"status": "killed",
                                       "updated_at": "2026-01-01T02:00:00+00:00"}))

    for _ in range(int(TIMEOUT / 0.1)):
        listed = await request(client, "zwarm/listSessions", {})
        if listed["sessions"][0]["status"] == "killed":
            break
        await asyncio.sleep(0.1)
    assert listed["sessions"][0]["status"] == "killed"
    assert listed["counts"]["killed"] == 1 and listed["counts"]["failed"] == 0
