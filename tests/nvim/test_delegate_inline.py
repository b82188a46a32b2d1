"""`:'<,'>Zwarm delegate`: anchored session, live inline status, changed-line signs."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types as lsp

from tests.nvim.conftest import Nvim, save_artifact
from zwarm_ls.editor import selection_task, text_in_range

NEW_APP = "def add(a, b):\n    if a is None or b is None:\n        return None\n    return a + b\n"


def held_turn(release: Path) -> list[dict]:
    """A codex turn that stays running until `release` exists, then edits app.py."""
    return [
        {"emit": {"type": "thread.started", "thread_id": "{thread_id}"}},
        {"emit": {"type": "turn.started"}},
        {"emit": {"type": "item.completed", "item": {"id": "i0", "type": "reasoning",
                                                     "text": "reading add()"}}},
        {"wait_for_file": str(release)},
        {"write": "app.py", "text": NEW_APP},
        {"emit": {"type": "item.completed", "item": {
            "id": "i1", "type": "file_change", "status": "completed",
            "changes": [{"path": "{cwd}/app.py", "kind": "update"}]}}},
        {"emit": {"type": "item.completed", "item": {"id": "i2", "type": "agent_message",
                                                     "text": "add() now returns None"}}},
        {"emit": {"type": "turn.completed", "usage": {"input_tokens": 10, "output_tokens": 5}}},
    ]


def test_visual_delegate_shows_live_status_at_anchor(nvim: Nvim) -> None:
    release = nvim.tmp / "release"
    nvim.scenario(held_turn(release))
    result = nvim.run("delegate_inline.lua", ZWARM_RELEASE=str(release))

    delegated = result["delegated"]
    assert delegated["adapter"] == "codex"
    short = delegated["shortId"]
    # The anchor is the selection (0-based line 1), and the status there is the
    # daemon's lens text, first running, then completed.
    running, completed = result["running"], result["completed"]
    assert running["row"] == 1 and short in running["text"]
    assert running["hl"] == "ZwarmRunning"
    assert completed["row"] == 1 and short in completed["text"]
    assert completed["hl"] == "ZwarmCompleted"
    assert any(f"delegated to codex {short}" in n for n in result.notifications())
    # The daemon's showMessage on completion reaches vim.notify.
    assert any(short in n and "completed" in n for n in result.notifications())

    assert result["namespaces"] == ["zwarm"]  # every extmark of the plugin lives in one
    # Exactly the two lines the agent wrote (blame on the change set, not a guess).
    signs = sorted(m["row"] for m in result["marks"] if m.get("sign"))
    assert signs == [1, 2]
    assert all(m["sign_hl"] == "ZwarmCompleted" for m in result["marks"] if m.get("sign"))

    # The agent got the selected code with the user's words: the daemon wrote the text,
    # exactly as it does for VS Code's code action on the same selection.
    (call,) = nvim.invocations()
    expected = selection_task("app.py", lsp.Range(start=lsp.Position(line=1, character=0),
                                                  end=lsp.Position(line=2, character=16)),
                              "    # TODO: handle None\n    return a + b", "python")
    assert call["prompt"] == f"handle None in add\n\n{expected}"

    screens = (["-- running --", *result["running_screen"], "", "-- completed --",
                *result["completed_screen"]])
    save_artifact("inline-status.txt", "\n".join(screens) + "\n")
    assert any(short in row and "running" in row for row in result["running_screen"])


def test_delegate_prompts_for_a_task(nvim: Nvim) -> None:
    result = nvim.run("delegate_prompt.lua")

    # The first prompt was cancelled: nothing was delegated.
    assert result["after_cancel"] == 0
    assert result["prompts"] == ["Delegate task: ", *2 * [
        "Delegate the selection (your instruction, optional): "]]
    assert result["delegated"]["adapter"] == "codex"
    # A characterwise selection of `add(a, b):` on the first line.
    assert result["anchor"]["range"] == {"start": {"line": 0, "character": 4},
                                         "end": {"line": 0, "character": 14}}
    assert result["anchor"]["uri"].endswith("/app.py")
    assert result["mark"]["row"] == 0 and result["mark"]["above"] is True
    call, bare = nvim.invocations()
    selected = lsp.Range(start=lsp.Position(line=0, character=4),
                         end=lsp.Position(line=0, character=14))
    lines = (nvim.project / "app.py").read_text().splitlines(keepends=True)
    expected = selection_task("app.py", selected, text_in_range(lines, selected), "python")
    assert call["prompt"] == f"rename it to plus\n\n{expected}"

    # Lines 2-3 with no instruction: the task is exactly the daemon's text for the
    # selection, the one VS Code's code action sends, recorded and given to the agent.
    whole = lsp.Range(start=lsp.Position(line=1, character=0),
                      end=lsp.Position(line=2, character=16))
    expected = selection_task("app.py", whole, text_in_range(lines, whole), "python")
    assert result["bare_task"] == expected
    assert bare["prompt"] == expected
