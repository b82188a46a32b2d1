"""Reviewing agents' change sets in Neovim: quickfix, ]z, accept into an unsaved buffer
(undo with `u`), reject, a conflicting second session, blame and the diff tab."""

from __future__ import annotations

import subprocess

from tests.nvim.conftest import Nvim, save_artifact

ORIGINAL = "def add(a, b):\n    # TODO: handle None\n    return a + b\n\n\nprint(add(1, 2))\n"
# Two hunks: the TODO line rewritten, and a line added after the function.
AGENT = ORIGINAL.replace("    # TODO: handle None\n", "    if a is None or b is None:\n"
                         "        return None\n").replace("    return a + b\n\n",
                                                         "    return a + b\n\n# checked\n")
SECOND = ORIGINAL.replace("    # TODO: handle None\n", "    assert a is not None\n")


def edit_turn(text: str) -> list[dict]:
    return [
        {"emit": {"type": "thread.started", "thread_id": "{thread_id}"}},
        {"write": "app.py", "text": text},
        {"emit": {"type": "item.completed", "item": {"id": "m", "type": "agent_message",
                                                     "text": "done"}}},
        {"emit": {"type": "turn.completed", "usage": {"input_tokens": 1, "output_tokens": 1}}},
    ]


def test_review_flow(nvim: Nvim) -> None:
    project = nvim.project
    for args in (["init", "-q"], ["add", "app.py"],
                 ["-c", "user.name=u", "-c", "user.email=u@u", "commit", "-qm", "start"]):
        subprocess.run(["git", *args], cwd=project, check=True, capture_output=True)
    nvim.scenario(edit_turn(AGENT), edit_turn(SECOND))
    result = nvim.run("review.lua")

    assert result["qf_title"].startswith("zwarm changes ")
    assert len(result["qf"]) == 2 and all(t.startswith("[pending]") for t in result["qf"])
    # The second session, on the same lines, was flagged on the first one's lens.
    assert result["first_hunk_line"] == 2 and result["signs"] >= 2

    assert len(result["accepted"]["applied"]) == 1 and result["accepted"]["conflicts"] == []
    assert result["accepted"]["writtenBy"] == "editor"
    after = "\n".join(result["after_accept"])
    assert "if a is None or b is None:" in after and "print(add(2, 3))" in after
    assert result["modified"] is True  # in the buffer, not written behind the user's back
    undone = "\n".join(result["after_undo"])
    assert "# TODO: handle None" in undone and "print(add(2, 3))" in undone

    assert len(result["rejected"]["discarded"]) == 1
    saved = (project / "app.py").read_text()
    assert saved == "\n".join(result["saved"]) + "\n"
    assert "if a is None or b is None:" in saved and "# checked" not in saved
    assert "print(add(2, 3))" in saved  # the user's own edit is kept

    assert result["conflict"]["applied"] == []
    assert result["conflict"]["conflicts"][0]["reason"] == "overlap"
    assert any("conflict" in t and "overlap" in t for t in result["conflict_qf"])

    blamed = {b["row"]: b["text"] for b in result["blame"]}
    assert "codex" in blamed[1] and " t1" in blamed[1] and 5 not in blamed

    base, agent = result["diff"]
    assert base["name"].endswith("/base/app.py") and agent["name"].endswith("/result/app.py")
    assert base["diff"] and agent["diff"]
    assert "    # TODO: handle None" in base["lines"] and "# checked" in agent["lines"]
    save_artifact("nvim-review.txt", "\n".join(result["screen"]) + "\n")
