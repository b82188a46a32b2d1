"""SIGKILL of a runner: the daemon notices, stops the agent it left behind (its process
group) and fails the turn with the reason — no session stays running unsupervised."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from tests.lsp.conftest import eventually
from tests.lsp_helpers import request


def group_members(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rfind(")") + 2:].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                members.append(int(entry.name))
    return members


async def test_killed_runner_fails_the_session_and_stops_its_agent(start_client, project: Path,
                                                                   scenario) -> None:
    scenario([
        {"emit": {"type": "thread.started", "thread_id": "{thread_id}"}},
        {"wait_for_file": str(project / "never")},
    ])
    client, updates = await start_client()
    started = await request(client, "zwarm/delegate", {"task": "hold"})
    session_id = started["sessionId"]
    run_file = project / ".zwarm" / "sessions" / session_id / "turns" / "turn_1.run.json"
    await eventually(run_file.exists)
    run = json.loads(run_file.read_text())
    await eventually(lambda: len(group_members(run["pgid"])) >= 2)  # runner and agent

    os.kill(run["pid"], signal.SIGKILL)
    await updates.until(lambda items: any(u.session.id == session_id and
                                          u.session.status == "failed" for u in items))
    check = await request(client, "zwarm/checkSession", {"sessionId": session_id})
    assert check["error"] == "the runner of this turn was killed; its agent was stopped"
    await eventually(lambda: group_members(run["pgid"]) == [])
