"""zwarm/decorations and textDocument/hover: the lines an agent wrote, with the session,
its turn and its task."""

from __future__ import annotations

from lsprotocol import types as lsp

from tests.lsp_helpers import request


async def completed_session(start_client, task: str = "write hello"):
    client, updates = await start_client()
    started = await request(client, "zwarm/delegate", {"task": task})
    session_id = started["sessionId"]
    await updates.until(lambda items: any(u.session.id == session_id
                                          and u.session.status == "completed" for u in items))
    return client, session_id


async def test_changed_line_decorations_and_hover(start_client, project):
    client, session_id = await completed_session(start_client)
    uri = (project / "hello.txt").as_uri()
    decorations = await request(client, "zwarm/decorations", {"uri": uri})
    [decoration] = decorations["decorations"]
    assert decoration["sessionId"] == session_id and decoration["range"]["start"]["line"] == 0
    assert session_id[:8] in decoration["hover"]
    hover = await client.text_document_hover_async(lsp.HoverParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(line=0,
                                                                                  character=0)))
    assert f"`{session_id[:8]}`" in hover.contents.value and "write hello" in hover.contents.value
