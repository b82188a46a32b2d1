"""zwarm/listSessions: every session of the store, even for a request that arrives while
the daemon is still building its index."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from tests.lsp_helpers import request

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
