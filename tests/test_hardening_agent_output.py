"""Agent output of an unexpected shape, and a runner that breaks, through the real daemon:
each bad event is an error step holding the raw line, the turn ends as the agent said it
did, and a runner that cannot do its job fails its turn with the reason instead of
leaving the session pending with nobody supervising it."""

from __future__ import annotations

from pathlib import Path

import pytest
from pygls.exceptions import JsonRpcException

from tests.lsp.conftest import start_client  # noqa: F401 - the daemon fixture
from tests.lsp_helpers import request
from zwarm_ls import turns
from zwarm_ls.adapters import get_adapter
from zwarm_ls.turns import TurnReader


def finished(session_id: str):
    return lambda items: any(u.session.id == session_id and not u.session.status.is_active
                             for u in items)


async def run_one(start_client, task: str = "go", adapter: str = "codex"  # noqa: F811
                  ) -> tuple[object, dict, list[dict]]:
    client, updates = await start_client()
    started = await request(client, "zwarm/delegate", {"task": task, "adapter": adapter})
    session_id = started["sessionId"]
    await updates.until(finished(session_id))
    check = await request(client, "zwarm/checkSession", {"sessionId": session_id})
    trajectory = await request(client, "zwarm/getTrajectory",
                               {"sessionId": session_id, "full": True})
    return client, check, trajectory["steps"]


async def test_codex_turn_completed_with_unreadable_usage_still_completes(
        start_client, project: Path, scenario) -> None:  # noqa: F811
    scenario([
        {"emit": {"type": "thread.started", "thread_id": "{thread_id}"}},
        {"emit": {"type": "item.completed", "item": {"type": "agent_message", "text": "ok"}}},
        {"emit": {"type": "turn.completed", "usage": {"input_tokens": "12k"}}},
    ])
    _, check, steps = await run_one(start_client)
    assert check["status"] == "completed" and check["response"] == "ok"
    errors = [s for s in steps if s["kind"] == "error"]
    assert len(errors) == 1 and "unreadable usage" in errors[0]["summary"]
    assert '"12k"' in errors[0]["detail"]  # the raw event is kept


async def test_codex_turn_failed_with_a_string_error_fails_with_that_error(
        start_client, project: Path, scenario) -> None:  # noqa: F811
    scenario([
        {"emit": {"type": "thread.started", "thread_id": "{thread_id}"}},
        {"emit": {"type": "item.completed", "item": "just a string"}},
        {"emit": {"type": "turn.failed", "error": "quota exceeded"}},
    ])
    _, check, steps = await run_one(start_client)
    assert check["status"] == "failed" and check["error"] == "quota exceeded"
    kinds = [(s["kind"], s["summary"]) for s in steps]
    assert kinds[-1] == ("error", "quota exceeded")
    assert "just a string" in (steps[0].get("detail") or "")


async def test_claude_result_with_unreadable_usage_keeps_outcome_and_cost(
        start_client, project: Path, scenario) -> None:  # noqa: F811
    scenario([
        {"emit": {"type": "system", "subtype": "init", "session_id": "{thread_id}"}},
        {"emit": {"type": "assistant", "message": {"content": "a bare string reply"}}},
        {"emit": {"type": "user", "message": "not an object"}},
        {"emit": {"type": "result", "subtype": "success", "is_error": False, "result": "done",
                  "session_id": "{thread_id}", "total_cost_usd": 0.0421,
                  "usage": {"input_tokens": "12k", "output_tokens": 3}}},
    ])
    _, check, steps = await run_one(start_client, adapter="claude")
    assert check["status"] == "completed" and check["costUsd"] == 0.0421
    messages = [s["summary"] for s in steps if s["kind"] == "message"]
    assert messages == ["a bare string reply"]
    errors = [s for s in steps if s["kind"] == "error"]
    assert len(errors) == 2  # the user event and the usage, each with its raw line
    assert any("not an object" in (e.get("detail") or "") for e in errors)
    assert any('"12k"' in (e.get("detail") or "") for e in errors)


async def test_a_runner_that_breaks_fails_its_turn_and_says_why(
        start_client, project: Path, scenario) -> None:  # noqa: F811
    client, check, _ = await run_one(start_client)
    session_id = check["sessionId"]
    turns_dir = project / ".zwarm" / "sessions" / session_id / "turns"
    (turns_dir / "turn_2.run.json").mkdir()  # the runner cannot write its record

    with pytest.raises(JsonRpcException) as err:
        await request(client, "zwarm/converse", {"sessionId": session_id, "message": "more"})
    assert "runner stopped before starting the agent" in str(err.value)
    check = await request(client, "zwarm/checkSession", {"sessionId": session_id})
    assert check["status"] == "failed" and check["turn"] == 2
    assert check["error"].startswith("the runner failed: IsADirectoryError")
    assert "Traceback" in (turns_dir / "turn_2.runner.log").read_text()
    assert (turns_dir / "turn_2.exit.json").is_file()


def test_an_endless_line_is_dropped_with_an_error_step(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(turns, "MAX_LINE_BYTES", 1000)
    monkeypatch.setattr(turns, "_CHUNK", 64)  # the line spans many reads
    path = tmp_path / "turn_1.jsonl"
    message = b'{"type": "item.completed", "item": {"type": "agent_message", "text": "after"}}'
    path.write_bytes(b"x" * 5000 + b"\n" + message + b"\n")
    reader = TurnReader(get_adapter("codex"), path)
    steps = reader.read_new()
    assert [(s.kind, s.summary) for s in steps] == [
        ("error", "an output line over 0 MiB was skipped"), ("message", "after")]
    assert len(reader.partial) == 0 and reader.state.malformed_lines == 1


async def test_a_claude_run_killed_before_its_result_keeps_the_usage_of_its_calls(
        start_client, project: Path, scenario) -> None:  # noqa: F811
    def call(call_id: str, block: dict, usage: dict) -> dict:
        return {"emit": {"type": "assistant", "session_id": "{thread_id}",
                         "message": {"id": call_id, "content": [block], "usage": usage}}}

    first = {"input_tokens": 100, "cache_read_input_tokens": 50, "output_tokens": 10}
    scenario([
        {"emit": {"type": "system", "subtype": "init", "session_id": "{thread_id}"}},
        # One model call streams each content block as an event of its own, with the
        # call's usage repeated on each: counted once.
        call("msg_1", {"type": "thinking", "thinking": "look first"}, first),
        call("msg_1", {"type": "tool_use", "id": "t1", "name": "Bash",
                       "input": {"command": "ls"}}, first),
        call("msg_2", {"type": "text", "text": "working"},
             {"input_tokens": 200, "output_tokens": 20}),
        {"crash": True},
    ])
    _, check, _ = await run_one(start_client, adapter="claude")
    assert check["status"] == "failed"
    assert (check["usage"]["inputTokens"], check["usage"]["cachedInputTokens"],
            check["usage"]["outputTokens"]) == (300, 50, 30)
    assert check["costUsd"] is not None and check["costUsd"] > 0  # estimated: no result
