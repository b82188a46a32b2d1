"""Reviewing agents' change sets in Neovim: quickfix, ]z, accept into an unsaved buffer
(undo with `u`), reject, a conflicting second session, blame and the diff tab."""

from __future__ import annotations

import subprocess

from tests.nvim.conftest import Nvim

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


def prepare(nvim: Nvim) -> None:
    """A git repository with app.py committed; two fake codex sessions that each edit it."""
    for args in (["init", "-q"], ["add", "app.py"],
                 ["-c", "user.name=u", "-c", "user.email=u@u", "commit", "-qm", "start"]):
        subprocess.run(["git", *args], cwd=nvim.project, check=True, capture_output=True)
    nvim.scenario(edit_turn(AGENT), edit_turn(SECOND))


def test_review_flow(nvim: Nvim) -> None:
    prepare(nvim)
    result = nvim.run("review.lua")
    first, second = result["first"], result["second"]
    assert first["isolation"] == "worktree"

    # The second session was started on a line the first one's pending hunk rewrites.
    assert result["overlap_warning"] == (f"zwarm: {second['shortId']} overlaps "
                                         f"{first['shortId']} app.py:2; to stop it: "
                                         f":Zwarm end {second['shortId']}")

    assert result["qf_title"] == f"zwarm changes {first['shortId']}"
    assert len(result["qf"]) == 2 and all(t.startswith("[pending]") for t in result["qf"])
    assert f"{first['shortId']} t1 +2 -1 if a is None or b is None:" in result["qf"][0]
    assert result["qf_lnums"] == [2, 5]
    assert result["first_hunk_line"] == 2
    # A sign on the line each pending hunk replaces or lands after; none on the rest.
    assert result["signs"] == [{"row": 1, "text": "┃"}, {"row": 4, "text": "┃"}]

    assert len(result["accepted"]["applied"]) == 1 and result["accepted"]["conflicts"] == []
    assert result["accepted"]["writtenBy"] == "editor"
    after = "\n".join(result["after_accept"])
    assert "if a is None or b is None:" in after and "print(add(2, 3))" in after
    assert result["modified"] is True  # in the buffer, not written behind the user's back
    assert result["after_undo"] == [*ORIGINAL.splitlines()[:5], "print(add(2, 3))"]
    assert result["after_redo"] == result["after_accept"]
    # Line 2 keeps a sign: the second session's hunk there still waits. ]z and [z visit
    # the hunks that wait, of every session, and stop at the last one.
    assert result["signs_after_accept"] == [{"row": 1, "text": "┃"}, {"row": 4, "text": "┃"}]
    assert result["visited"] == [2, 5, 5, 2]

    # The diff tab: base and result of app.py, in diff mode, with the file's filetype.
    base, agent = result["diff"]
    assert base["name"].endswith(f"{first['shortId']}/base/app.py")
    assert agent["name"].endswith(f"{first['shortId']}/result/app.py")
    assert base["diff"] and agent["diff"] and base["filetype"] == agent["filetype"] == "python"
    assert base["lines"] == ORIGINAL.splitlines() and agent["lines"] == AGENT.splitlines()
    # Rejected there, at the hunk's line on the result side; both decisions are signed.
    assert result["diff_hunk_line"] == 6
    assert len(result["rejected"]["discarded"]) == 1
    assert result["diff_signs"] == [{"row": 1, "text": "✓"}, {"row": 2, "text": "✓"},
                                    {"row": 5, "text": "✗"}]

    saved = (nvim.project / "app.py").read_text()
    assert saved == "\n".join(result["saved"]) + "\n"
    # Exactly the accepted hunk and the user's own edit.
    assert saved == (AGENT.replace("# checked\n", "")
                     .replace("print(add(1, 2))", "print(add(2, 3))"))

    # The second session's hunk collides with the accepted one: nothing applied, the
    # reason in the quickfix list at the hunk's line, and the hunk still waits, marked.
    assert result["conflict"]["applied"] == []
    (conflict,) = result["conflict"]["conflicts"]
    assert conflict["reason"] == "overlap"
    assert result["conflict_qf"] == [{"text": f"conflict {conflict['hunkId']} overlap"
                                      + (f": {conflict['detail']}" if conflict.get("detail")
                                         else ""), "lnum": 2}]
    states = [h["state"] for f in result["second_changes"]["files"] for h in f["hunks"]]
    assert states == ["conflict"]
    assert result["signs_after_conflict"] == [{"row": 1, "text": "!"}]
    assert result["lines_after_conflict"] == result["saved"]
    # The daemon's lenses, drawn inline: Accept / Reject only on the hunk still waiting.
    inline = " ".join(result["inline_after_conflict"])
    assert f"zwarm codex {second['shortId']}: +1 -1 (conflict)  ✓ Accept  ✗ Reject" in inline
    assert f"{first['shortId']}: +" not in inline

    blamed = {b["row"]: b["text"] for b in result["blame"]}
    assert blamed == {1: f"  codex {first['shortId']} t1", 2: f"  codex {first['shortId']} t1"}
