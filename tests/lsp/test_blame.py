"""zwarm/blame: every line knows which session and turn wrote it, or the user — even
when the user edits a file while an agent works on it in place."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types as lsp

from tests.lsp.changes_helpers import ORIGINAL
from tests.lsp.conftest import eventually, open_document
from tests.lsp_helpers import request


async def test_user_edit_during_an_inplace_turn_is_the_users(start_client, project: Path,
                                                             scenario) -> None:
    (project / "code.py").write_text(ORIGINAL)
    agent_text = ORIGINAL.replace("line 3\n", "agent 3\n")
    release = project / "release"
    scenario([
        {"emit": {"type": "thread.started", "thread_id": "{thread_id}"}},
        {"write": "code.py", "text": agent_text},
        {"emit": {"type": "item.completed", "item": {
            "id": "i1", "type": "file_change", "status": "completed",
            "changes": [{"path": "code.py", "kind": "update"}]}}},
        {"wait_for_file": str(release)},
        {"emit": {"type": "turn.completed", "usage": {"input_tokens": 1, "output_tokens": 1}}},
    ])
    client, updates = await start_client()
    changed: list[dict] = []
    client.feature("zwarm/changesUpdated")(lambda params: changed.append(params))
    started = await request(client, "zwarm/delegate", {"task": "edit"})
    session_id = started["sessionId"]
    await eventually(lambda: bool(changed))  # the file_change step was snapshotted

    # While the agent still runs, the user changes the line right below the agent's.
    user_text = agent_text.replace("line 4\n", "user 4\n")
    uri = open_document(client, project / "code.py", user_text)  # written and open
    client.text_document_did_save(lsp.DidSaveTextDocumentParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri)))
    async def users_line_recorded() -> bool:
        blame = await request(client, "zwarm/blame", {"uri": uri})
        # Until the save is recorded the open buffer's line 4 blames as unsaved.
        return any(ln["line"] == 4 and ln["author"] == "user" and not ln.get("unsaved")
                   for ln in blame["lines"])
    while not await users_line_recorded():  # the save is a notification: it lands soon
        await asyncio.sleep(0.05)
    release.write_text("go")
    await updates.until(lambda items: any(u.session.id == session_id and
                                          u.session.status == "completed" and
                                          u.session.changes is not None for u in items))

    blame = await request(client, "zwarm/blame", {"uri": uri})
    by_line = {ln["line"]: ln for ln in blame["lines"]}
    assert by_line[3]["author"] == "agent" and by_line[3]["sessionId"] == session_id
    assert by_line[3]["turn"] == 1 and by_line[3]["adapter"] == "codex"
    assert by_line[4]["author"] == "user" and by_line[0]["author"] == "user"
    changes = await request(client, "zwarm/sessionChanges", {"sessionId": session_id})
    [hunk] = changes["files"][0]["hunks"]
    assert hunk["mixed"] is True  # one hunk, lines 3-4: the agent's and the user's
    ranged = await request(client, "zwarm/blame", {
        "uri": uri, "range": {"start": {"line": 3, "character": 0},
                              "end": {"line": 4, "character": 0}}})
    assert [ln["line"] for ln in ranged["lines"]] == [3]

    decorations = await request(client, "zwarm/decorations", {"uri": uri})
    [decoration] = decorations["decorations"]
    assert decoration["range"]["start"]["line"] == decoration["range"]["end"]["line"] == 3
    assert decoration["turn"] == 1 and session_id[:8] in decoration["hover"]


async def test_a_file_no_session_touched_is_unknown(start_client, project: Path) -> None:
    (project / "other.py").write_text("x = 1\n")
    client, _ = await start_client()
    blame = await request(client, "zwarm/blame", {"uri": (project / "other.py").as_uri()})
    assert blame == {"uri": (project / "other.py").as_uri(), "known": False, "lines": []}
