"""Two daemons (two editor windows) on one store see each other's sessions live, and
sessions started by the headless CLI show up too."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.lsp_helpers import request

from .conftest import TIMEOUT


async def test_sessions_started_elsewhere_stream_to_every_daemon(start_client, project):
    first, first_updates = await start_client()
    second, second_updates = await start_client()
    started = await request(first, "zwarm/delegate", {"task": "from window one"})
    session_id = started["sessionId"]
    await second_updates.until(lambda items: any(
        u.session.id == session_id and u.session.status == "completed" for u in items))
    seen = [s.index for u in second_updates.for_session(session_id) for s in u.new_steps]
    assert seen == list(range(len(seen))) and seen
    peek = await request(second, "zwarm/peekSession", {"sessionId": session_id[:8]})
    assert peek["status"] == "completed" and peek["latestMessage"] == "done: from window one"

    cli = subprocess.run([sys.executable, "-m", "zwarm_ls.cli", "delegate", "from the cli",
                          "--adapter", "claude", "--root", str(project), "--json"],
                         capture_output=True, text=True, check=True, timeout=TIMEOUT)
    cli_id = json.loads(cli.stdout)["sessionId"]
    for updates in (first_updates, second_updates):
        await updates.until(lambda items: any(
            u.session.id == cli_id and u.session.status == "completed" for u in items))
    listed = await request(first, "zwarm/listSessions", {})
    assert {s["id"] for s in listed["sessions"]} == {session_id, cli_id}
    assert {s["adapter"] for s in listed["sessions"]} == {"codex", "claude"}

    ended = await request(second, "zwarm/endSession", {"sessionId": cli_id, "delete": True})
    assert ended["status"] == "deleted"
    await first_updates.until(lambda items: any(u.session.id == cli_id and u.removed
                                                for u in items))
    listed = await request(first, "zwarm/listSessions", {})
    assert [s["id"] for s in listed["sessions"]] == [session_id]
