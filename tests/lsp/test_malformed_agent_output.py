"""One malformed but valid-JSON line from an agent is an error step, not a dead runner:
the turn goes on, ends with the right status, and a fresh daemon reads the store."""

from __future__ import annotations

from pathlib import Path

from tests.lsp_helpers import request

BAD_LINES = [
    {"type": "turn.completed", "usage": {"input_tokens": "12k", "output_tokens": 3}},
    {"type": "item.completed", "item": "just a string"},
    {"type": "item.completed", "item": {"id": "x", "type": "file_change", "changes": "all"}},
]


async def test_bad_events_become_error_steps_and_the_turn_finishes(start_client, project: Path,
                                                                   scenario) -> None:
    scenario([
        {"emit": {"type": "thread.started", "thread_id": "{thread_id}"}},
        *({"emit": line} for line in BAD_LINES),
        {"emit": {"type": "item.completed", "item": {"id": "m", "type": "agent_message",
                                                     "text": "still here"}}},
        {"emit": {"type": "turn.completed", "usage": {"input_tokens": 5, "output_tokens": 1}}},
    ])
    client, updates = await start_client()
    started = await request(client, "zwarm/delegate", {"task": "go"})
    session_id = started["sessionId"]
    await updates.until(lambda items: any(u.session.id == session_id and
                                          not u.session.status.is_active for u in items))
    check = await request(client, "zwarm/checkSession", {"sessionId": session_id})
    assert check["status"] == "completed" and check["response"] == "still here"
    trajectory = await request(client, "zwarm/getTrajectory", {"sessionId": session_id})
    errors = [s for s in trajectory["steps"] if s["kind"] == "error"]
    assert len(errors) >= 2 and all("unreadable" in e["summary"] for e in errors)
    assert any("12k" in (e.get("detail") or "") for e in errors)

    fresh, _ = await start_client()  # a new daemon on the same store starts and lists it
    listed = await request(fresh, "zwarm/listSessions", {})
    assert [s["id"] for s in listed["sessions"]] == [session_id]
