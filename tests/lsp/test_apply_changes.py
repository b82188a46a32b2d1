"""zwarm/applyChanges and zwarm/discardChanges: three-way, all or nothing, through the
editor's workspace/applyEdit (its buffers and undo), and the daemon's own writes when
there is no editor."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException

from tests.lsp.changes_helpers import (
    AGENT,
    EDITOR_CAPABILITIES,
    ORIGINAL,
    Buffers,
    agent_turn,
    make_repo,
)
from tests.lsp.conftest import open_document
from tests.lsp_helpers import request


async def delegate_and_wait(client, updates, **params) -> str:
    started = await request(client, "zwarm/delegate", {"task": "edit", **params})
    session_id = started["sessionId"]
    await updates.until(lambda items: any(u.session.id == session_id and
                                          u.session.status == "completed" and
                                          u.session.changes is not None for u in items))
    return session_id


async def hunks_of(client, session_id: str) -> list[dict]:
    changes = await request(client, "zwarm/sessionChanges", {"sessionId": session_id})
    return [h for f in changes["files"] for h in f["hunks"]]


async def test_accept_one_hunk_into_an_unsaved_buffer(start_client, project: Path, scenario,
                                                      monkeypatch) -> None:
    make_repo(project)
    scenario(agent_turn())
    monkeypatch.setattr("tests.lsp.conftest.CAPABILITIES", EDITOR_CAPABILITIES)
    client, updates = await start_client()
    buffers = Buffers(client)
    session_id = await delegate_and_wait(client, updates, isolation="worktree")
    # The user edits line 10 in the editor and does not save.
    user_text = ORIGINAL.replace("line 10\n", "user 10\n")
    uri = open_document(client, project / "code.py", ORIGINAL)
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=user_text)]))
    buffers.text[uri] = user_text  # what the editor shows
    first, second = await hunks_of(client, session_id)

    result = await request(client, "zwarm/applyChanges",
                           {"sessionId": session_id, "hunkIds": [first["id"]]})
    assert result["applied"] == [first["id"]] and result["writtenBy"] == "editor"
    assert result["conflicts"] == []
    [edit] = buffers.edits
    [doc_edit] = edit.document_changes
    assert doc_edit.text_document.version == 2  # against the buffer the user sees
    assert buffers.text[uri] == user_text.replace("line 3\n", "agent 3\n")
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(  # as an editor does
        text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=3),
        content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=buffers.text[uri])]))
    assert (project / "code.py").read_text() == ORIGINAL  # the editor owns the buffer
    states = {h["id"]: h["state"] for h in await hunks_of(client, session_id)}
    assert states == {first["id"]: "applied", second["id"]: "pending"}

    again = await request(client, "zwarm/applyChanges",
                          {"sessionId": session_id, "hunkIds": [first["id"]]})
    assert again["applied"] == [] and again["skipped"] == [
        {"hunkId": first["id"], "reason": "already applied"}]

    rejected = await request(client, "zwarm/discardChanges",
                             {"sessionId": session_id, "hunkIds": [second["id"]]})
    assert rejected["discarded"] == [second["id"]] and len(buffers.edits) == 1  # nothing to undo
    blame = await request(client, "zwarm/blame", {"uri": uri})
    by_line = {ln["line"]: ln for ln in blame["lines"]}
    assert by_line[3]["author"] == "agent" and by_line[3]["sessionId"] == session_id
    assert by_line[10]["author"] == "user" and "sessionId" not in by_line[10]


async def test_a_conflicting_hunk_applies_nothing(start_client, project: Path, scenario) -> None:
    make_repo(project)
    scenario(agent_turn())
    client, updates = await start_client()
    session_id = await delegate_and_wait(client, updates, isolation="worktree")
    # Meanwhile the user rewrote line 3 on disk: the first hunk conflicts.
    (project / "code.py").write_text(ORIGINAL.replace("line 3\n", "mine 3\n"))
    result = await request(client, "zwarm/applyChanges", {"sessionId": session_id})
    assert result["applied"] == []
    [conflict] = result["conflicts"]
    assert conflict["reason"] == "overlap" and conflict["path"] == (project / "code.py").as_uri()
    assert (project / "code.py").read_text() == ORIGINAL.replace("line 3\n", "mine 3\n")
    states = sorted(h["state"] for h in await hunks_of(client, session_id))
    assert states == ["conflict", "pending"]


async def test_without_an_editor_the_daemon_writes_and_discard_reverts(start_client,
                                                                      project: Path,
                                                                      scenario) -> None:
    (project / "code.py").write_text(ORIGINAL)
    scenario(agent_turn())
    client, updates = await start_client()
    session_id = await delegate_and_wait(client, updates)  # not a repo: in place
    assert (project / "code.py").read_text() == AGENT
    first, second = await hunks_of(client, session_id)
    assert first["state"] == second["state"] == "applied"
    result = await request(client, "zwarm/discardChanges",
                           {"sessionId": session_id, "hunkIds": [second["id"]]})
    assert result["discarded"] == [second["id"]] and result["writtenBy"] == "daemon"
    assert (project / "code.py").read_text() == ORIGINAL.replace("line 3\n", "agent 3\n")
    restored = await request(client, "zwarm/applyChanges",
                             {"sessionId": session_id, "hunkIds": [second["id"]]})
    assert restored["applied"] == [second["id"]]
    assert (project / "code.py").read_text() == AGENT


@pytest.mark.parametrize("params", [
    {"hunkIds": ["nope"]},
    {"hunkIds": [123]},
])
async def test_unknown_hunks_are_invalid_params(start_client, project: Path, scenario,
                                                params) -> None:
    (project / "code.py").write_text(ORIGINAL)
    scenario(agent_turn())
    client, updates = await start_client()
    session_id = await delegate_and_wait(client, updates)
    with pytest.raises(JsonRpcException) as err:
        await request(client, "zwarm/applyChanges", {"sessionId": session_id, **params})
    assert err.value.code == -32602
    assert (project / "code.py").read_text() == AGENT


async def test_file_content_serves_both_sides_and_refuses_traversal(start_client, project: Path,
                                                                    scenario) -> None:
    (project / "code.py").write_text(ORIGINAL)
    scenario(agent_turn())
    client, updates = await start_client()
    session_id = await delegate_and_wait(client, updates)
    changes = await request(client, "zwarm/sessionChanges", {"sessionId": session_id})
    [f] = changes["files"]
    base = await request(client, "zwarm/fileContent", {"uri": f["baseUri"]})
    result = await request(client, "zwarm/fileContent", {"uri": f["resultUri"]})
    assert base["text"] == ORIGINAL and result["text"] == AGENT
    for bad in (f"zwarm-snapshot:/{session_id}/base/../../etc/passwd",
                f"zwarm-snapshot:/{session_id}/base//etc/passwd", "file:///etc/passwd"):
        with pytest.raises(JsonRpcException) as err:
            await request(client, "zwarm/fileContent", {"uri": bad})
        assert err.value.code == -32602


async def test_a_running_turn_and_a_deleted_file_are_refused(start_client, project: Path,
                                                             scenario) -> None:
    make_repo(project)
    release = project / "release"
    scenario([*agent_turn()[:-1], {"wait_for_file": str(release)}, agent_turn()[-1]])
    client, updates = await start_client()
    started = await request(client, "zwarm/delegate", {"task": "edit", "isolation": "worktree"})
    session_id = started["sessionId"]
    with pytest.raises(JsonRpcException) as err:
        await request(client, "zwarm/applyChanges", {"sessionId": session_id})
    assert "still" in err.value.message  # the turn has not finished: nothing to decide yet
    release.write_text("go")
    await updates.until(lambda items: any(u.session.id == session_id and
                                          u.session.status == "completed" and
                                          u.session.changes is not None for u in items))
    (project / "code.py").unlink()  # the user deleted the file meanwhile
    result = await request(client, "zwarm/applyChanges", {"sessionId": session_id})
    assert result["applied"] == [] and {c["reason"] for c in result["conflicts"]} == {"deleted"}
    assert not (project / "code.py").exists()


async def test_an_apply_cut_short_before_its_record_is_not_applied_twice(
        start_client, project: Path, scenario) -> None:
    """The daemon died after writing the files but before recording the hunks' state:
    the next apply finds the text already there and only records it."""
    make_repo(project)
    scenario(agent_turn())
    client, updates = await start_client()
    session_id = await delegate_and_wait(client, updates, isolation="worktree")
    (project / "code.py").write_text(AGENT)  # what the interrupted apply had written
    result = await request(client, "zwarm/applyChanges", {"sessionId": session_id})
    assert len(result["applied"]) == 2 and result["conflicts"] == []
    assert (project / "code.py").read_text() == AGENT
    states = {h["state"] for h in await hunks_of(client, session_id)}
    assert states == {"applied"}
