"""Every error path of the zwarm/* requests: a clear JSON-RPC error, never a crash."""

from __future__ import annotations

import os
import shutil

import pytest
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException

from tests.lsp_helpers import request


async def error_of(client, method: str, params) -> JsonRpcException:
    with pytest.raises(JsonRpcException) as exc:
        await request(client, method, params)
    return exc.value


@pytest.mark.parametrize("method,params,field", [
    ("zwarm/delegate", {}, "task"),
    ("zwarm/delegate", {"task": ""}, "task"),
    ("zwarm/delegate", {"task": "x", "anchor": {"uri": "file:///a"}}, "anchor.range"),
    ("zwarm/converse", {"sessionId": "abc"}, "message"),
    ("zwarm/getTrajectory", {"sessionId": "abc", "sinceIndex": -1}, "sinceIndex"),
    ("zwarm/listSessions", {"status": "sleeping"}, "status"),
    ("zwarm/waitForSessions", {"timeoutS": 301}, "timeoutS"),
    ("zwarm/endSession", {"sessionId": 42}, "sessionId"),
])
async def test_bad_params_name_the_field(start_client, method, params, field):
    client, _ = await start_client()
    error = await error_of(client, method, params)
    assert error.code == -32602
    assert f"'{field}'" in error.message or f"'{field.split('.')[0]}" in error.message


async def test_non_object_params_are_rejected(start_client):
    client, _ = await start_client()
    for params in ([1, 2], "task", 7):
        error = await error_of(client, "zwarm/delegate", params)
        assert error.code == -32602 and "expected an object" in error.message


async def test_unknown_ambiguous_and_invalid_session_ids(start_client, project):
    client, _ = await start_client()
    ids = []
    for _ in range(40):  # enough sessions that two share a first hex digit
        ids.append((await request(client, "zwarm/delegate", {"task": "t"}))["sessionId"])
    unknown = await error_of(client, "zwarm/peekSession", {"sessionId": "zzzz"})
    assert unknown.code == -32001 and "no session matches 'zzzz'" in unknown.message
    assert "list sessions" in unknown.data["hint"]
    shared = next(a[0] for a in ids if sum(b[0] == a[0] for b in ids) > 1)
    ambiguous = await error_of(client, "zwarm/checkSession", {"sessionId": shared})
    assert ambiguous.code == -32002 and "matches" in ambiguous.message
    assert "more characters" in ambiguous.data["hint"]
    traversal = await error_of(client, "zwarm/endSession", {"sessionId": "../../etc"})
    assert traversal.code == -32602 and "not a valid session id" in traversal.message


async def test_policy_adapter_and_missing_cli_errors(start_client, project, tmp_path,
                                                     monkeypatch):
    client, _ = await start_client()
    outside = await error_of(client, "zwarm/delegate", {"task": "x",
                                                         "workingDir": str(tmp_path)})
    assert outside.code == -32005 and "allowed_dirs" in outside.data["hint"]
    adapter = await error_of(client, "zwarm/delegate", {"task": "x", "adapter": "gemini"})
    assert adapter.code == -32602 and "gemini" in adapter.message
    monkeypatch.setenv("PATH", os.defpath)
    bare, _ = await start_client()
    missing = await error_of(bare, "zwarm/delegate", {"task": "x", "adapter": "claude"})
    assert missing.code == -32004 and "not found on PATH" in missing.message


async def test_execute_command_errors_match_the_request_errors(start_client):
    client, _ = await start_client()
    with pytest.raises(JsonRpcException) as exc:
        await client.workspace_execute_command_async(lsp.ExecuteCommandParams(
            command="zwarm.peekSession", arguments=[{"sessionId": "nope"}]))
    assert exc.value.code == -32001
    listed = await client.workspace_execute_command_async(lsp.ExecuteCommandParams(
        command="zwarm.listSessions", arguments=[]))
    assert listed["counts"]["total"] == 0


async def test_converse_after_the_working_dir_is_gone(start_client, project, tmp_path):
    work = project / "sub"
    work.mkdir()
    client, updates = await start_client()
    started = await request(client, "zwarm/delegate", {"task": "x", "workingDir": "sub"})
    session_id = started["sessionId"]
    await updates.until(lambda items: any(u.session.id == session_id and
                                          not u.session.status.is_active for u in items))
    shutil.rmtree(work)
    with pytest.raises(JsonRpcException) as err:
        await request(client, "zwarm/converse", {"sessionId": session_id, "message": "more"})
    assert "no longer exists" in err.value.message
    check = await request(client, "zwarm/checkSession", {"sessionId": session_id})
    assert check["status"] == "completed" and check["turn"] == 1  # not left pending
