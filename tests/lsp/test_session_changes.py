"""zwarm/sessionChanges: exact hunks from snapshots, in a worktree or in place, with the
user's repository left alone."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.lsp.changes_helpers import AGENT, ORIGINAL, agent_turn, git, make_repo, user_repo_state
from tests.lsp_helpers import request


async def finished(client, updates, session_id: str) -> None:
    await updates.until(lambda items: any(u.session.id == session_id and
                                          u.session.status == "completed" and
                                          u.session.changes is not None for u in items))


async def test_worktree_session_starts_from_uncommitted_edits(start_client, project: Path,
                                                              scenario) -> None:
    make_repo(project)
    user_text = ORIGINAL.replace("line 0\n", "user 0\n")  # not committed
    (project / "code.py").write_text(user_text)
    before = user_repo_state(project)
    scenario(agent_turn(AGENT.replace("line 0\n", "user 0\n")))
    client, updates = await start_client()
    started = await request(client, "zwarm/delegate", {"task": "edit", "isolation": "worktree"})
    assert started["isolation"] == "worktree"
    agent_dir = Path(started["agentDir"])
    assert agent_dir != project and agent_dir.is_relative_to(project / ".zwarm" / "worktrees")
    await finished(client, updates, started["sessionId"])

    changes = await request(client, "zwarm/sessionChanges", {"sessionId": started["sessionId"]})
    assert changes["known"] and changes["isolation"] == "worktree"
    [f] = changes["files"]
    assert f["relPath"] == "code.py" and f["status"] == "modified"
    assert f["path"] == (project / "code.py").as_uri()
    hunks = f["hunks"]
    assert [(h["oldRange"]["start"]["line"], h["newRange"]["end"]["line"]) for h in hunks] == \
        [(3, 4), (20, 22)]  # the user's line 0 edit is the base, not the agent's
    assert {h["state"] for h in hunks} == {"pending"} and {h["turn"] for h in hunks} == {1}
    assert (project / "code.py").read_text() == user_text  # untouched until applied
    after = user_repo_state(project)
    assert after == before
    branches = git(project, "for-each-ref", "--format=%(refname:short)", "refs/heads/zwarm")
    assert branches.split() == [f"zwarm/{started['sessionId'][:8]}"]


async def test_inplace_in_a_folder_that_is_not_a_repository(start_client, project: Path,
                                                            scenario) -> None:
    (project / "code.py").write_text(ORIGINAL)
    (project / ".gitignore").write_text("build/\n")
    (project / "build").mkdir()
    (project / "big.bin").write_bytes(b"x" * 10)
    nested = project / "vendor"
    nested.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=nested, check=True)
    (nested / "lib.py").write_text("x = 1\n")
    scenario([*agent_turn(), {"write": "build/out.txt", "text": "built\n"},
              {"write": "vendor/lib.py", "text": "x = 2\n"},
              {"write": "new.py", "text": "print(1)\n"}])
    client, updates = await start_client({"sessions": {"snapshot_max_file_mb": 1}})
    started = await request(client, "zwarm/delegate", {"task": "edit"})
    assert started["isolation"] == "inplace" and started["agentDir"] == str(project)
    await finished(client, updates, started["sessionId"])
    changes = await request(client, "zwarm/sessionChanges", {"sessionId": started["sessionId"]})
    files = {f["relPath"]: f for f in changes["files"]}
    assert set(files) == {"code.py", "new.py"}  # ignored build/ and the nested repo left out
    assert files["new.py"]["status"] == "added"
    assert {h["state"] for f in files.values() for h in f["hunks"]} == {"applied"}
    assert {"path": "vendor", "reason": "nested repository"} in changes["skipped"]
    assert (project / "code.py").read_text() == AGENT
    counts = changes["counts"]
    assert counts["applied"] == 3 and counts["pending"] == 0 and counts["files"] == 2


async def test_old_zwarm_session_says_changes_unknown(start_client, project: Path) -> None:
    store = Path(__file__).resolve().parents[1] / "test_data" / "zwarm39_store"
    subprocess.run(["cp", "-r", str(store / ".zwarm"), str(project)], check=True)
    client, _ = await start_client()
    listed = await request(client, "zwarm/listSessions", {})
    session_id = listed["sessions"][0]["id"]
    changes = await request(client, "zwarm/sessionChanges", {"sessionId": session_id})
    assert changes["known"] is False
    assert changes["note"] == "changes unknown (made outside zwarm-ls)" and changes["files"] == []
