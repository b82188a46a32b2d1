"""Worktree sessions over their life: parallel sessions that touch the same lines (the
overlap radar and the second apply's conflict), converse in the same worktree, a
worktree removed by hand, and clean."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException

from tests.lsp.changes_helpers import AGENT, ORIGINAL, agent_turn, git, make_repo
from tests.lsp_helpers import request


async def run_session(client, updates, **params) -> dict:
    started = await request(client, "zwarm/delegate",
                            {"task": "edit", "isolation": "worktree", **params})
    await updates.until(lambda items: any(u.session.id == started["sessionId"] and
                                          u.session.status == "completed" and
                                          u.session.changes is not None for u in items))
    return started


async def test_two_sessions_on_the_same_lines(start_client, project: Path, scenario) -> None:
    make_repo(project)
    other = ORIGINAL.replace("line 3\n", "other 3\n").replace("line 25\n", "other 25\n")
    scenario(agent_turn(), agent_turn(other))
    client, updates = await start_client()
    first = await run_session(client, updates)
    second = await run_session(client, updates)

    listed = await request(client, "zwarm/listSessions", {})
    by_id = {s["id"]: s for s in listed["sessions"]}
    radar = by_id[second["sessionId"]]["overlaps"]
    assert {o["sessionId"] for o in radar} == {first["sessionId"]}
    assert radar[0]["range"]["start"]["line"] == 3

    applied = await request(client, "zwarm/applyChanges", {"sessionId": first["sessionId"]})
    assert len(applied["applied"]) == 2 and (project / "code.py").read_text() == AGENT
    result = await request(client, "zwarm/applyChanges", {"sessionId": second["sessionId"]})
    assert result["applied"] == []  # all or nothing
    [conflict] = result["conflicts"]
    assert conflict["reason"] == "overlap"
    changes = await request(client, "zwarm/sessionChanges", {"sessionId": second["sessionId"]})
    states = {h["newRange"]["start"]["line"]: h["state"] for h in changes["files"][0]["hunks"]}
    assert states == {3: "conflict", 25: "pending"}
    [clean_hunk] = [h["id"] for h in changes["files"][0]["hunks"] if h["state"] == "pending"]
    ok = await request(client, "zwarm/applyChanges",
                       {"sessionId": second["sessionId"], "hunkIds": [clean_hunk]})
    assert ok["applied"] == [clean_hunk]
    assert (project / "code.py").read_text() == AGENT.replace("line 25\n", "other 25\n")

    lenses = await client.text_document_code_lens_async(lsp.CodeLensParams(
        text_document=lsp.TextDocumentIdentifier(uri=(project / "code.py").as_uri())))
    lenses_text = " | ".join(lens.command.title for lens in lenses if lens.command)
    assert "✓ Accept" in lenses_text and "(conflict)" in lenses_text


async def test_converse_keeps_the_worktree_and_turns_are_attributed(start_client, project: Path,
                                                                    scenario) -> None:
    make_repo(project)
    second_turn = AGENT.replace("line 28\n", "agent 28\n")
    scenario(agent_turn(), agent_turn(second_turn))
    client, updates = await start_client()
    started = await run_session(client, updates)
    await request(client, "zwarm/converse", {"sessionId": started["sessionId"],
                                             "message": "one more"})
    await updates.until(lambda items: any(u.session.id == started["sessionId"] and
                                          u.session.turn == 2 and
                                          u.session.status == "completed" for u in items))
    changes = await request(client, "zwarm/sessionChanges", {"sessionId": started["sessionId"]})
    turns = sorted(h["turn"] for h in changes["files"][0]["hunks"])
    assert turns == [1, 1, 2]
    worktree = Path(started["agentDir"])
    assert (worktree / "code.py").read_text() == second_turn  # the second turn ran there
    assert (project / "code.py").read_text() == ORIGINAL
    only_second = await request(client, "zwarm/sessionChanges",
                                {"sessionId": started["sessionId"], "turn": 2})
    assert [h["turn"] for h in only_second["files"][0]["hunks"]] == [2]


async def test_removed_worktree_and_clean(start_client, project: Path, scenario) -> None:
    make_repo(project)
    scenario(agent_turn())
    client, updates = await start_client()
    started = await run_session(client, updates)
    session_id = started["sessionId"]

    kept = await request(client, "zwarm/cleanSessions", {"keepDays": 0})
    assert kept["removed"] == [] and kept["kept"] == [session_id]
    with pytest.raises(JsonRpcException) as err:
        await request(client, "zwarm/endSession", {"sessionId": session_id, "delete": True})
    assert "unapplied" in err.value.message

    shutil.rmtree(started["agentDir"])
    with pytest.raises(JsonRpcException) as err:
        await request(client, "zwarm/converse", {"sessionId": session_id, "message": "go on"})
    assert "worktree" in err.value.message and "gone" in err.value.message
    # Its change set is still there to review.
    changes = await request(client, "zwarm/sessionChanges", {"sessionId": session_id})
    assert changes["counts"]["pending"] == 2

    cleaned = await request(client, "zwarm/cleanSessions", {"keepDays": 0, "force": True})
    assert cleaned["removed"] == [session_id]
    assert git(project, "for-each-ref", "refs/heads/zwarm").strip() == ""
    assert "zwarm" not in git(project, "worktree", "list")
    assert not (project / ".zwarm" / "worktrees" / session_id[:8]).exists()
