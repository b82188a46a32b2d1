"""zwarm/delegate with a `selection`: the daemon writes the task text for the selected
code, the same text its code action offers VS Code for that selection (Neovim sends the
selection; one author for both editors), from the open buffer when it has unsaved edits."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types as lsp

from tests.lsp.conftest import open_document
from tests.lsp_helpers import request

TEXT = "def add(a, b):\n    # TODO: handle None\n    return a + b\n"


async def test_selection_task_matches_the_code_action(start_client, project: Path) -> None:
    client, _ = await start_client()
    (project / "app.py").write_text("old text on disk\n")
    uri = open_document(client, project / "app.py", TEXT)
    (project / "app.py").write_text("old text on disk\n")  # the buffer is unsaved
    selected = lsp.Range(start=lsp.Position(line=1, character=0),
                         end=lsp.Position(line=3, character=0))
    actions = await client.text_document_code_action_async(lsp.CodeActionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), range=selected,
        context=lsp.CodeActionContext(diagnostics=[])))
    codex = next(a for a in actions if a.title == "Delegate this to Codex")
    offered = codex.command.arguments[0]["task"]

    started = await request(client, "zwarm/delegate", {"selection": {
        "uri": uri, "range": {"start": {"line": 1, "character": 0},
                              "end": {"line": 3, "character": 0}}}, "adapter": "codex"})
    check = await request(client, "zwarm/checkSession", {"sessionId": started["sessionId"]})
    assert check["task"] == offered
    assert "app.py, lines 2-3" in offered and "# TODO: handle None" in offered

    with_words = await request(client, "zwarm/delegate", {"task": "make it safe", "selection": {
        "uri": uri, "range": {"start": {"line": 1, "character": 0},
                              "end": {"line": 3, "character": 0}}}})
    check = await request(client, "zwarm/checkSession", {"sessionId": with_words["sessionId"]})
    assert check["task"] == f"make it safe\n\n{offered}"
