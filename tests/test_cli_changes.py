"""`zwarm-ls changes|apply|discard|blame` and `delegate --isolation`, as a terminal user
runs them (a subprocess each), with the fake agent editing a git project."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.lsp.changes_helpers import AGENT, ORIGINAL, agent_turn, make_repo


def zwarm(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "zwarm_ls.cli", *args, "--root", str(project)],
                          capture_output=True, text=True, timeout=120)


def test_review_a_worktree_session_from_the_terminal(project: Path, fake_clis: Path,
                                                     scenario) -> None:
    make_repo(project)
    scenario(agent_turn())
    started = zwarm(project, "delegate", "edit code.py", "--isolation", "worktree", "--wait")
    assert started.returncode == 0, started.stderr
    listed = json.loads(zwarm(project, "sessions", "--json").stdout)
    session_id = listed["sessions"][0]["id"][:8]

    stat = zwarm(project, "changes", session_id)
    assert "2 pending" in stat.stdout and "modified code.py  +3 -2" in stat.stdout
    patch = zwarm(project, "changes", session_id, "--patch")
    assert "-line 3\n+agent 3\n" in patch.stdout and "\033[" not in patch.stdout  # no tty
    changes = json.loads(zwarm(project, "changes", session_id, "--json").stdout)
    first, second = [h["id"] for h in changes["files"][0]["hunks"]]

    dry = zwarm(project, "apply", session_id, "--hunk", first, "--dry-run")
    assert "would apply 1 hunk" in dry.stdout
    assert (project / "code.py").read_text() == ORIGINAL
    applied = zwarm(project, "apply", session_id, "--hunk", first)
    assert "applied 1 hunk(s) (written by daemon)" in applied.stdout
    assert (project / "code.py").read_text() == ORIGINAL.replace("line 3\n", "agent 3\n")
    rejected = zwarm(project, "discard", session_id, "--hunk", second)
    assert "discarded 1 hunk(s)" in rejected.stdout

    blame = zwarm(project, "blame", str(project / "code.py")).stdout.splitlines()
    assert blame[3].split()[:3] == ["codex", session_id, "t1"] and blame[3].endswith("agent 3")
    assert blame[4].startswith("user ")


def test_unknown_hunk_is_a_clear_error(project: Path, fake_clis: Path, scenario) -> None:
    (project / "code.py").write_text(ORIGINAL)
    scenario(agent_turn())
    assert zwarm(project, "delegate", "edit", "--wait").returncode == 0
    session_id = json.loads(zwarm(project, "sessions", "--json").stdout)["sessions"][0]["id"]
    result = zwarm(project, "apply", session_id[:8], "--hunk", "0000")
    assert result.returncode == 2 and "unknown hunk id '0000'" in result.stderr
    assert (project / "code.py").read_text() == AGENT
