"""A store with broken sessions in it: each one is listed with what is wrong, and every
other session, the list, decorations and new delegates keep working. No read hangs."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

from tests.lsp_helpers import request

GOOD = {"task": "fine", "status": "completed", "created_at": "2026-01-01T00:00:00+00:00",
        "updated_at": "2026-01-01T00:00:00+00:00", "turn": 1}
BAD = {
    "anchor": {**GOOD, "anchor": {"uri": 5}},
    "latest step": {**GOOD, "latest_step": 123},
    "turn steps": {**GOOD, "turns": [{"turn": 1, "steps": "many"}]},
    "huge turn": {**GOOD, "turn": 1e9},
    "unknown adapter": {**GOOD, "status": "running", "adapter": "nope"},
    "not an object": [1, 2, 3],
    "usage": {**GOOD, "token_usage": {"input_tokens": "12k"}},
}


def write_session(project: Path, meta: object, raw: bytes | None = None) -> str:
    session_id = str(uuid.uuid4())
    folder = project / ".zwarm" / "sessions" / session_id
    (folder / "turns").mkdir(parents=True)
    if raw is not None:
        (folder / "meta.json").write_bytes(raw)
    else:
        (folder / "meta.json").write_text(json.dumps(meta))
    return session_id


async def test_bad_sessions_are_listed_with_their_error(start_client, project: Path) -> None:
    good = write_session(project, GOOD)
    bad = {name: write_session(project, meta) for name, meta in BAD.items()}
    fifo = write_session(project, None, raw=b"")
    fifo_meta = project / ".zwarm" / "sessions" / fifo / "meta.json"
    fifo_meta.unlink()
    os.mkfifo(fifo_meta)

    client, _ = await start_client()
    listed = await request(client, "zwarm/listSessions", {})
    by_id = {s["id"]: s for s in listed["sessions"]}
    assert by_id[good]["status"] == "completed" and "error" not in by_id[good]
    for name in ("huge turn", "not an object", "usage"):
        assert by_id[bad[name]]["error"].startswith("unreadable meta.json"), name
    assert by_id[fifo]["error"] == "unreadable meta.json: meta.json is not a regular file"
    for name in ("anchor", "latest step", "turn steps"):
        assert by_id[bad[name]]["status"] == "completed", name  # the bad field is dropped
    assert by_id[bad["unknown adapter"]]["status"] == "failed"
    assert "nope" in by_id[bad["unknown adapter"]]["error"]

    uri = (project / "x.py").as_uri()
    decorations = await request(client, "zwarm/decorations", {"uri": uri})
    assert decorations == {"uri": uri, "decorations": []}
    check = await request(client, "zwarm/checkSession", {"sessionId": good})
    assert check["task"] == "fine"
