"""Reviewing agents' change sets in a real VS Code (code-server, driven by Chromium): the
session's files in the Sessions view, the diff editor, Accept / Reject lenses, undo, a
conflicting second session and the blame hover. Screenshots go to the artifacts folder;
the README's copies of them come from here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.vscode.test_e2e import ARTIFACTS, CALC_PY, make_project, run_workbench

pytestmark = pytest.mark.vscode

# Two hunks, apart: the TODO line in add(), and the body of sub().
FIRST = CALC_PY.replace("    # TODO: check that a and b are numbers\n",
                        "    # ACCEPTED: numbers are checked by the caller\n").replace(
    "    return a - b\n", "    return a - b  # REJECTED\n", 1)
SECOND = CALC_PY.replace("    # TODO: check that a and b are numbers\n",
                         "    # OTHER: a different fix\n")


NOTES = "# Notes\n\nadd() trusts its caller.\n"


def turn(text: str, *more: dict) -> list[dict]:
    return [
        {"emit": {"type": "thread.started", "thread_id": "{thread_id}"}},
        {"write": "calc.py", "text": text},
        *more,
        {"emit": {"type": "item.completed", "item": {"id": "m", "type": "agent_message",
                                                     "text": "done"}}},
        {"emit": {"type": "turn.completed", "usage": {"input_tokens": 1, "output_tokens": 1}}},
    ]


def delegate(project: Path, env: dict[str, str], task: str) -> str:
    done = subprocess.run([sys.executable, "-m", "zwarm_ls.cli", "delegate", task,
                           "--isolation", "worktree", "--wait", "--json", "--root",
                           str(project)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    listed = subprocess.run([sys.executable, "-m", "zwarm_ls.cli", "sessions", "--json",
                             "--root", str(project)], env=env, capture_output=True, text=True,
                            check=True)
    return json.loads(listed.stdout)["sessions"][0]["shortId"]


def test_review_in_the_diff_editor(tmp_path: Path, fake_clis: Path, scenario,
                                   monkeypatch) -> None:
    import os

    project = make_project(tmp_path)
    (project / ".zwarm" / "config.toml").write_text('[sessions]\nisolation = "worktree"\n')
    release = tmp_path / "release"
    # The third session (delegated in the editor) holds its turn: "End It" ends it running.
    # The first session also adds a file: its "Changes" open the multi-file diff.
    scenario(turn(FIRST, {"write": "NOTES.md", "text": NOTES}), turn(SECOND), [
        {"emit": {"type": "thread.started", "thread_id": "{thread_id}"}},
        {"wait_for_file": str(release)},
        {"emit": {"type": "turn.completed", "usage": {"input_tokens": 1, "output_tokens": 1}}},
    ])
    env = dict(os.environ)
    first = delegate(project, env, "first")
    second = delegate(project, env, "second")
    assert (project / "calc.py").read_text() == CALC_PY  # worktrees: nothing applied yet

    artifacts = ARTIFACTS / "review"
    seen, _ = run_workbench(tmp_path, project, "drive_review.js", artifacts,
                            {"FIRST_SHORT": first, "SECOND_SHORT": second},
                            finally_=release.touch)  # never leave a fake agent waiting
    texts = seen["texts"]
    # Both sessions hold undecided hunks on the same lines: each row says so.
    assert "1 to review" in texts["secondRow"], texts["secondRow"]
    assert f"⚠ overlaps {first}" in texts["secondRow"], texts["secondRow"]
    assert "+" in texts["fileRow"] and "2 pending" in texts["fileRow"], texts["fileRow"]
    assert f"zwarm {first}" in texts["diffTitle"] and "to review" in texts["diffTitle"]
    assert "Accept" in texts["diffLenses"] and "Reject" in texts["diffLenses"]
    assert f"zwarm {first} turn 1 · 1 to review" in texts["diffTitleAccepted"]
    assert f"zwarm {first} turn 1 · reviewed" in texts["diffTitleDecided"]
    assert "1 applied" in texts["fileRowDecided"] and "1 discarded" in texts["fileRowDecided"]
    assert "ACCEPTED" in texts["afterAccept"] and "# mine" in texts["afterAccept"]
    assert "REJECTED" not in texts["afterAccept"]
    assert "ACCEPTED" not in texts["afterUndo"] and "# mine" in texts["afterUndo"]
    saved = (project / "calc.py").read_text()
    assert "ACCEPTED" in saved and "# mine" in saved and "REJECTED" not in saved
    # The first session still waits on NOTES.md, so it may be named too.
    assert "overlaps" in texts["overlapWarning"] and second in texts["overlapWarning"], \
        texts["overlapWarning"]
    assert "killed" in texts["overlapEnded"] and "killed" in texts["thirdRow"], texts
    assert "OTHER" not in saved and "overlap" in texts["conflict"]
    assert "1 to review" in texts["secondRowAfterConflict"], texts["secondRowAfterConflict"]
    assert {"Accept All Changes", "Reject All Changes", "Review Changes"} <= \
        set(texts["reviewMenu"]), texts["reviewMenu"]
    assert "to review" not in texts["secondRowRejected"]
    assert f"written by codex session {first}" in texts["hover"] or \
        f"written by codex session `{first}`" in texts["hover"], texts["hover"]
    # The hover's "Changes": both files of the first session in VS Code's multi-file diff,
    # NOTES.md (added, still waiting) among them.
    assert f"zwarm {first} · 1 to review (2 files)" in texts["hoverChanges"], texts["hoverChanges"]
    assert "NOTES.md" in texts["multiDiffFiles"], texts["multiDiffFiles"]
    assert "/base" not in texts["multiDiffFiles"], texts["multiDiffFiles"]  # not a rename
    assert not (project / "NOTES.md").exists()  # waiting in the worktree, not applied
    for name in ("review-01-session-files", "review-02-diff", "review-03-decided",
                 "review-04-overlap", "review-05-conflict", "review-06-hover"):
        assert (artifacts / f"{name}.png").stat().st_size > 10_000
