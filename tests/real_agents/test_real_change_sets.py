"""The real Codex and Claude CLIs, each in a worktree and in place, produce exactly the
change set they made: one modified file (through the shell: edits outside the agent's own
edit tool count too) and one new file."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from .conftest import AGENTS, Project, need

BOTH = pytest.mark.parametrize("agent_name", ["codex", "claude"])
MODES = pytest.mark.parametrize("isolation", ["worktree", "inplace"])
ORIGINAL = "".join(f"row {i}\n" for i in range(12))


def make_repo(project: Project) -> None:
    root = project.root
    (root / "table.txt").write_text(ORIGINAL)
    for args in (["init", "-q"], ["add", "table.txt"],
                 ["-c", "user.name=u", "-c", "user.email=u@u", "commit", "-qm", "start"]):
        subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


@BOTH
@MODES
async def test_the_change_set_is_exactly_what_the_agent_did(
        agent_name: str, isolation: str, real_project: Project, start_daemon: Any) -> None:
    agent = AGENTS[agent_name]
    need(real_project, agent_name)
    make_repo(real_project)
    real_project.server.load(agent.scenario(
        {"tool_calls": [agent.shell("sed -i 's/^row 5$/row five/' table.txt")]},
        {"tool_calls": [agent.shell("printf 'a note\\n' > note.txt")]},
        {"text": "Changed row 5 and wrote note.txt.",
         "usage": {"input_tokens": 100, "output_tokens": 10}},
    ))
    daemon = await start_daemon()
    started = await daemon.call("delegate", {"task": "Edit the table", "adapter": agent_name,
                                             "isolation": isolation})
    check = await daemon.wait_done(started["sessionId"])
    assert check["status"] == "completed", check

    changes = await daemon.call("sessionChanges", {"sessionId": started["sessionId"]})
    files = {f["relPath"]: f for f in changes["files"]}
    assert set(files) == {"table.txt", "note.txt"}
    [row] = files["table.txt"]["hunks"]
    assert row["oldRange"]["start"]["line"] == 5 and row["newRange"]["end"]["line"] == 6
    assert files["note.txt"]["status"] == "added"
    expected_state = "pending" if isolation == "worktree" else "applied"
    assert {h["state"] for f in files.values() for h in f["hunks"]} == {expected_state}
    root = real_project.root
    if isolation == "worktree":
        assert (root / "table.txt").read_text() == ORIGINAL and not (root / "note.txt").exists()
        applied = await daemon.call("applyChanges", {"sessionId": started["sessionId"]})
        assert len(applied["applied"]) == 2
    assert (root / "table.txt").read_text() == ORIGINAL.replace("row 5\n", "row five\n")
    assert (root / "note.txt").read_text() == "a note\n"
