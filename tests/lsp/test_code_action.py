"""textDocument/codeAction: from a selection or a diagnostic to a finished, conversed,
ended session, as an editor sees it."""

from __future__ import annotations

import pytest
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException

from tests.lsp_helpers import request

from .conftest import TIMEOUT, eventually, open_document


def codex_turn(*items):
    return [{"emit": {"type": "thread.started", "thread_id": "{thread_id}"}},
            {"emit": {"type": "turn.started"}}, *items,
            {"emit": {"type": "turn.completed", "usage": {"input_tokens": 100,
                                                          "output_tokens": 5}}}]


def command(cmd: str) -> dict:
    return {"emit": {"type": "item.completed", "item": {
        "type": "command_execution", "command": f"/bin/bash -lc '{cmd}'",
        "aggregated_output": "ok\n", "exit_code": 0}}}


async def test_code_action_to_completion_with_push_progress_and_lenses(
        start_client, project, scenario, tmp_path):
    gate = tmp_path / "gate"
    scenario(codex_turn(command("step one"), {"wait_for_file": str(gate)},
                        command("step two"), {"emit": {"type": "item.completed", "item": {
                            "type": "agent_message", "text": "all done"}}}),
             codex_turn({"emit": {"type": "item.completed", "item": {
                 "type": "agent_message", "text": "second answer"}}}))
    client, updates = await start_client()
    uri = open_document(client, project / "calc.py",
                        "def add(a, b):\n    # TODO: handle None\n    return a + b\n")
    selection = lsp.Range(start=lsp.Position(line=0, character=0),
                          end=lsp.Position(line=2, character=16))
    actions = await client.text_document_code_action_async(lsp.CodeActionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), range=selection,
        context=lsp.CodeActionContext(diagnostics=[])))
    titles = [a.title for a in actions]
    assert titles == ["Delegate this to Codex", "Delegate this to Claude"]
    delegate_cmd = actions[0].command
    args = delegate_cmd.arguments[0]
    assert "calc.py, lines 1-3" in args["task"] and "# TODO: handle None" in args["task"]
    assert args["anchor"]["uri"] == uri

    started = await client.workspace_execute_command_async(lsp.ExecuteCommandParams(
        command=delegate_cmd.command, arguments=delegate_cmd.arguments))
    session_id = started["sessionId"]
    await updates.until(lambda items: any(s.summary == "$ step one"
                                          for u in items for s in u.new_steps))
    lenses = await client.text_document_code_lens_async(lsp.CodeLensParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri)))
    assert len(lenses) == 1 and lenses[0].range.start.line == 0
    assert "running" in lenses[0].command.title and lenses[0].command.title.startswith("zwarm:")
    assert lenses[0].command.command == "zwarm.openTrajectory"
    assert list(lenses[0].command.arguments) == [{"sessionId": session_id}]

    gate.touch()
    await updates.until(lambda items: any(u.session.id == session_id
                                          and u.session.status == "completed" for u in items))
    mine = updates.for_session(session_id)
    indexes = [s.index for u in mine for s in u.new_steps]
    assert indexes == list(range(len(indexes)))  # in order, no gaps, no repeats
    statuses = [u.session.status for u in mine]
    assert statuses[-1] == "completed" and "running" in statuses
    lenses = await client.text_document_code_lens_async(lsp.CodeLensParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri)))
    assert "completed" in lenses[0].command.title
    await eventually(lambda: client.code_lens_refreshes >= 1)  # coalesced, so it may lag

    token = f"zwarm/{session_id}"
    kinds = [type(v).__name__ for v in client.progress_reports[token]]
    assert kinds[0] == "WorkDoneProgressBegin" and kinds[-1] == "WorkDoneProgressEnd"
    assert "WorkDoneProgressReport" in kinds
    assert client.progress_reports[token][-1].message.startswith("completed")
    assert any("completed" in m.message for m in client.messages)

    reply = await request(client, "zwarm/converse", {"sessionId": session_id[:8],
                                                      "message": "again"})
    assert reply["turn"] == 2 and reply["resumedNatively"] is True
    done = await request(client, "zwarm/waitForSessions", {"sessionIds": [session_id],
                                                            "timeoutS": TIMEOUT})
    assert done["finished"][0]["status"] == "completed"
    check = await request(client, "zwarm/checkSession", {"sessionId": session_id})
    assert check["response"] == "second answer" and check["turn"] == 2
    traj = await request(client, "zwarm/getTrajectory", {"sessionId": session_id,
                                                          "sinceIndex": len(indexes)})
    assert {s["turn"] for s in traj["steps"]} == {2}
    assert traj["nextIndex"] == len(indexes) + len(traj["steps"])

    ended = await request(client, "zwarm/endSession", {"sessionId": session_id})
    assert ended["status"] == "completed" and ended["wasRunning"] is False


async def test_diagnostic_quick_fix_carries_the_message(start_client, project):
    client, _ = await start_client()
    uri = open_document(client, project / "x.ts", "let x: number = 'a';\n", "typescript")
    diagnostic = lsp.Diagnostic(
        range=lsp.Range(start=lsp.Position(line=0, character=4),
                        end=lsp.Position(line=0, character=5)),
        message="Type 'string' is not assignable to type 'number'.", source="ts")
    actions = await client.text_document_code_action_async(lsp.CodeActionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), range=diagnostic.range,
        context=lsp.CodeActionContext(diagnostics=[diagnostic])))
    fixes = [a for a in actions if a.kind == lsp.CodeActionKind.QuickFix]
    assert len(fixes) == 1 and fixes[0].title.startswith("Ask an agent to fix this")
    task = fixes[0].command.arguments[0]["task"]
    assert "not assignable" in task and "x.ts, line 1" in task and "let x: number" in task
    assert fixes[0].command.arguments[0]["anchor"]["range"]["start"] == {"line": 0,
                                                                          "character": 4}


async def test_no_code_actions_for_files_outside_the_workspace(start_client, tmp_path):
    client, _ = await start_client()
    secret = tmp_path / "outside" / "secret.py"
    secret.parent.mkdir()
    secret.write_text("API_KEY = 'do not leak'\n")
    selected = lsp.Range(start=lsp.Position(line=0, character=0),
                         end=lsp.Position(line=1, character=0))
    actions = await client.text_document_code_action_async(lsp.CodeActionParams(
        text_document=lsp.TextDocumentIdentifier(uri=secret.as_uri()), range=selected,
        context=lsp.CodeActionContext(diagnostics=[])))
    assert not actions
    with pytest.raises(JsonRpcException) as err:
        await request(client, "zwarm/delegate", {"selection": {
            "uri": secret.as_uri(), "range": {"start": {"line": 0, "character": 0},
                                              "end": {"line": 1, "character": 0}}}})
    assert "outside the project" in err.value.message and "do not leak" not in err.value.message
