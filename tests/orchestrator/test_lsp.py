"""The orchestrator and pilot over LSP: the real daemon (`zwarm-ls serve`) on stdio,
driven by pytest-lsp's client, with the model played by the scripted server."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.lsp_helpers import SERVER, plain
from tests.lsp_helpers import request as lsp_request
from tests.orchestrator.conftest import bodies, call, calls, tool_outputs, user_texts, write_config
from zwarm_ls.protocol import (
    ListRunsResult,
    OrchestrateResult,
    OrchestratorUpdated,
    PilotGotoResult,
    PilotHistoryResult,
    PilotResult,
    RunTrajectoryResult,
)

TIMEOUT = 60


async def request(client: LanguageClient, method: str, params: Any) -> Any:
    return await lsp_request(client, method, params, TIMEOUT)


async def command(client: LanguageClient, name: str, argument: dict) -> Any:
    params = lsp.ExecuteCommandParams(command=name, arguments=[argument])
    return plain(await asyncio.wait_for(
        client.protocol.send_request_async("workspace/executeCommand", params), TIMEOUT))


Start = Callable[..., Awaitable[LanguageClient]]


@pytest.fixture
async def start_daemon(project: Path, fake_clis: Path) -> AsyncIterator[Start]:
    clients: list[LanguageClient] = []

    async def start(experimental: Any = None) -> LanguageClient:
        client = await ClientServerConfig(server_command=SERVER,
                                          server_env=dict(os.environ)).start()
        clients.append(client)
        client.updates = []  # type: ignore[attr-defined]

        @client.feature("zwarm/orchestratorUpdated")
        def on_update(params: Any) -> None:
            client.updates.append(  # type: ignore[attr-defined]
                OrchestratorUpdated.model_validate(plain(params)))

        await client.initialize_session(lsp.InitializeParams(
            capabilities=lsp.ClientCapabilities(experimental=experimental),
            root_uri=project.as_uri()))
        return client

    yield start
    for client in clients:
        try:
            await asyncio.wait_for(client.shutdown_session(), TIMEOUT)
        except Exception:
            await client.stop()


async def stop(client: LanguageClient) -> None:
    await asyncio.wait_for(client.shutdown_session(), TIMEOUT)


async def test_pilot_survives_a_restart_and_goto_branches(project: Path, start_daemon: Start,
                                                          model_server) -> None:
    server = model_server([
        calls(call("list_sessions", "l1")), {"text": "Reached waypoint one."},
        {"text": "Reached waypoint two."},
        {"text": "Took the other road."},
    ])
    write_config(project, "openai", server)

    client = await start_daemon()
    first = PilotResult.model_validate(await request(client, "zwarm/pilot",
                                                     {"message": "waypoint one"}))
    assert (first.checkpoint, first.reply, first.pilot_id) == ("T1", "Reached waypoint one.",
                                                               "default")
    assert [s.kind for s in first.steps] == ["message", "tool_call", "usage", "tool_result",
                                             "message", "usage"]
    second = PilotResult.model_validate(await request(client, "zwarm/pilot",
                                                      {"message": "waypoint two"}))
    assert second.checkpoint == "T2"
    assert second.steps[0].index == first.steps[-1].index + 1
    # The pilot's steps were streamed as notifications too.
    streamed = [s for u in client.updates for s in u.new_steps]  # type: ignore[attr-defined]
    assert [s.index for s in streamed] == [s.index for s in [*first.steps, *second.steps]]
    await stop(client)
    assert (project / ".zwarm" / "pilot" / "default" / "checkpoints.json").is_file()

    # A new daemon process: the conversation is still there.
    client = await start_daemon()
    history = PilotHistoryResult.model_validate(await request(client, "zwarm/pilotHistory", {}))
    assert [(c.label, c.instruction, c.current) for c in history.checkpoints] == [
        ("T1", "waypoint one", False), ("T2", "waypoint two", True)]
    moved = PilotGotoResult.model_validate(await command(client, "zwarm.pilotGoto",
                                                         {"checkpoint": "T1"}))
    assert (moved.current, moved.later) == ("T1", ["T2"])
    third = PilotResult.model_validate(await request(client, "zwarm/pilot",
                                                     {"message": "take the other road"}))
    assert (third.checkpoint, third.reply) == ("T2", "Took the other road.")

    history = PilotHistoryResult.model_validate(await request(client, "zwarm/pilotHistory", {}))
    assert [(c.label, c.instruction) for c in history.checkpoints] == [
        ("T1", "waypoint one"), ("T2", "take the other road")]
    # The branch continued from T1: the model saw waypoint one, not waypoint two.
    last = user_texts(bodies(server, "openai")[-1])
    assert "waypoint one" in last and "take the other road" in last
    assert "waypoint two" not in last
    assert any("went back to checkpoint T1" in t for t in last)

    trajectory = RunTrajectoryResult.model_validate(await request(
        client, "zwarm/orchestratorTrajectory", {"runId": "default"}))
    assert trajectory.kind == "pilot" and trajectory.task == "waypoint one"
    assert [s.summary for s in trajectory.steps if s.kind == "message"][-1] == \
        "Took the other road."


async def test_goto_unknown_checkpoint_is_a_clear_error(project: Path, start_daemon: Start,
                                                        model_server) -> None:
    write_config(project, "openai", model_server([]))
    client = await start_daemon()
    with pytest.raises(Exception, match="no checkpoint 'T7'"):
        await request(client, "zwarm/pilotGoto", {"checkpoint": "T7"})


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_chat_reaches_the_editor_user_and_the_answer_reaches_the_model(
        provider: str, project: Path, start_daemon: Start, model_server) -> None:
    server = model_server([
        calls(call("chat", "q1", message="Which database should the cache use?",
                   options=["sqlite", "postgres"])),
        {"text": "Going with postgres."},
    ])
    write_config(project, provider, server)
    client = await start_daemon()
    asked: list[lsp.ShowMessageRequestParams] = []

    @client.feature(lsp.WINDOW_SHOW_MESSAGE_REQUEST)
    def on_question(params: lsp.ShowMessageRequestParams) -> lsp.MessageActionItem:
        asked.append(params)
        return lsp.MessageActionItem(title="postgres")

    result = PilotResult.model_validate(await request(client, "zwarm/pilot",
                                                      {"message": "add a cache"}))
    assert result.reply == "Going with postgres."
    assert asked[0].message == "zwarm asks: Which database should the cache use?"
    assert [a.title for a in asked[0].actions or []] == ["sqlite", "postgres"]
    answer = tool_outputs(bodies(server, provider)[1])["q1"]
    assert answer == {"ok": True, "delivered": True, "answer": "postgres"}


async def test_chat_uses_the_custom_request_when_the_client_offers_it(
        project: Path, start_daemon: Start, model_server) -> None:
    server = model_server([calls(call("chat", "q1", message="Name the module?")),
                           {"text": "ok"}])
    write_config(project, "openai", server)
    client = await start_daemon(experimental={"zwarm": {"chat": True}})

    @client.feature("zwarm/chat")
    def on_chat(params: Any) -> dict:
        assert plain(params)["message"] == "Name the module?"
        return {"answer": "billing_cache"}

    await request(client, "zwarm/pilot", {"message": "go"})
    answer = tool_outputs(bodies(server, "openai")[1])["q1"]
    assert answer["answer"] == "billing_cache"


async def test_orchestrate_streams_and_can_be_read_back(project: Path, start_daemon: Start,
                                                        model_server) -> None:
    server = model_server([calls(call("list_sessions")),
                           calls(call("exit", message="nothing to do"))])
    write_config(project, "anthropic", server)
    client = await start_daemon()
    started = OrchestrateResult.model_validate(await command(
        client, "zwarm.orchestrate", {"task": "check", "maxSteps": 5}))
    assert started.status == "running"

    async def finished() -> list[OrchestratorUpdated]:
        while True:
            updates = [u for u in client.updates  # type: ignore[attr-defined]
                       if u.run_id == started.run_id]
            if updates and updates[-1].status != "running":
                return updates
            await asyncio.sleep(0.05)

    updates = await asyncio.wait_for(finished(), TIMEOUT)
    assert updates[-1].status == "exited"
    trajectory = RunTrajectoryResult.model_validate(await request(
        client, "zwarm/orchestratorTrajectory", {"runId": started.run_id}))
    assert [s.index for s in trajectory.steps] == [s.index for u in updates for s in u.new_steps]
    waited = OrchestrateResult.model_validate(await request(
        client, "zwarm/orchestrate", {"task": "again", "wait": True}))
    assert waited.status in ("exited", "budget_exhausted")


async def test_list_runs_shows_the_daemons_runs_and_interrupted_ones(
        project: Path, start_daemon: Start, model_server) -> None:
    server = model_server([calls(call("exit", "x1", message="all done")),
                           calls(call("exit", "x2", message="picked up again"))])
    write_config(project, "openai", server)
    # A run some other process left behind mid-step (its process is gone).
    stale = project / ".zwarm" / "orchestrator" / "20200101-000000-abcdef" / "run.json"
    stale.parent.mkdir(parents=True)
    stale.write_text(json.dumps({"run_id": "20200101-000000-abcdef", "task": "old task",
                                 "status": "running", "max_steps": 50, "step_count": 3,
                                 "created_at": "2020-01-01T00:00:00+00:00",
                                 "updated_at": "2020-01-01T00:00:00+00:00",
                                 "pid": 2 ** 22 + 1, "start_ticks": 1}))
    client = await start_daemon()
    done = OrchestrateResult.model_validate(await request(
        client, "zwarm/orchestrate", {"task": "finish up", "wait": True}))
    listed = ListRunsResult.model_validate(await request(client, "zwarm/listRuns", {}))
    assert [(r.run_id, r.status, r.task, r.resumable) for r in listed.runs] == [
        (done.run_id, "exited", "finish up", False),
        ("20200101-000000-abcdef", "interrupted", "old task", True)]
    assert listed.runs[0].message == "all done" and listed.runs[0].step_count == 1
    one = ListRunsResult.model_validate(await command(client, "zwarm.listRuns", {"limit": 1}))
    assert [r.run_id for r in one.runs] == [done.run_id]

    # zwarm/resumeRun carries the interrupted run on in the daemon; a finished one is refused.
    with pytest.raises(Exception, match="finished with exit"):
        await request(client, "zwarm/resumeRun", {"runId": done.run_id})
    client.updates.clear()  # type: ignore[attr-defined]
    resumed = OrchestrateResult.model_validate(await request(
        client, "zwarm/resumeRun", {"runId": "20200101-000000-abcdef", "wait": True}))
    assert (resumed.status, resumed.message, resumed.step_count) == \
        ("exited", "picked up again", 4)
    assert any(s.kind == "tool_call" for u in client.updates  # type: ignore[attr-defined]
               for s in u.new_steps)
    assert "resumed after it was interrupted" in json.dumps(bodies(server, "openai")[-1])
    listed = ListRunsResult.model_validate(await request(client, "zwarm/listRuns", {}))
    old = next(r for r in listed.runs if r.run_id == "20200101-000000-abcdef")
    assert (old.status, old.resumed, old.resumable) == ("exited", 1, False)
