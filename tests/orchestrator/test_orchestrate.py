"""A scripted orchestrator run end to end, against the scripted model server and the fake
agent CLIs: two parallel delegations, waits, checks, a converse, bash verification, exit.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.orchestrator.conftest import (
    PROVIDERS,
    SESSION_A,
    SESSION_B,
    bodies,
    call,
    calls,
    configure,
    tool_outputs,
)
from zwarm_ls.orchestrator import Orchestrator
from zwarm_ls.orchestrator.orchestrator import read_run
from zwarm_ls.protocol import ListParams, RunTrajectoryParams
from zwarm_ls.service import SessionService

SCRIPT = [
    calls(call("delegate", "d1", task="Add add(a, b) to calc.py"),
          call("delegate", "d2", task="Write tests for calc.add", adapter="claude"),
          text="Two independent pieces: dispatching both."),
    calls(call("wait_for_sessions", "w1", session_ids=[SESSION_A], timeout_s=120),
          call("wait_for_sessions", "w2", session_ids=[SESSION_B], timeout_s=120)),
    calls(call("check_session", "k1", session_id=SESSION_A),
          call("check_session", "k2", session_id=SESSION_B[:8])),
    calls(call("converse", "v1", session_id=SESSION_A, message="also handle negatives")),
    calls(call("wait_for_sessions", "w3", session_ids=[SESSION_A], timeout_s=120)),
    calls(call("check_session", "k3", session_id=SESSION_A)),
    calls(call("bash", "b1", command="cat hello.txt && echo verified")),
    calls(call("exit", "x1", message="calc.add done, tested and verified")),
]

EXPECTED_CALLS = [
    ["delegate", "delegate"], ["wait_for_sessions", "wait_for_sessions"],
    ["check_session", "check_session"], ["converse"], ["wait_for_sessions"],
    ["check_session"], ["bash"], ["exit"],
]


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_scripted_run(provider: str, service: SessionService, project: Path,
                            model_server, fixed_ids: list[str]) -> None:
    server = model_server(SCRIPT)
    configure(service, project, provider, server)
    streamed = []
    run = Orchestrator(service, "Add calc.add with tests", on_steps=streamed.extend)

    result = await run.run()

    assert result.status == "exited", result
    assert result.message == "calc.add done, tested and verified"
    assert result.step_count == 8
    assert sorted(result.sessions) == [SESSION_A, SESSION_B]  # in order of completion

    # The model saw exactly these tool calls, step by step…
    sent = bodies(server, provider)
    assert len(sent) == 8
    record = read_run(service.config, result.run_id)
    per_step = [[c.name for c in i.tool_calls] for i in record.items if i.role == "assistant"]
    assert per_step == EXPECTED_CALLS

    # …and got these results back (read from what was sent in the following request).
    out = {k: v for body in sent for k, v in tool_outputs(body).items()}
    assert all(v["ok"] for v in out.values()), out
    assert out["d1"]["session_id"] == SESSION_A and out["d1"]["adapter"] == "codex"
    assert out["d2"]["session_id"] == SESSION_B and out["d2"]["adapter"] == "claude"
    assert [s["id"] for s in out["w1"]["finished"]] == [SESSION_A]
    assert [s["id"] for s in out["w2"]["finished"]] == [SESSION_B]
    assert out["k1"]["status"] == "completed"
    assert out["k1"]["response"] == "done: Add add(a, b) to calc.py"
    assert out["k2"]["response"] == "done: Write tests for calc.add"
    assert out["v1"] == {**out["v1"], "session_id": SESSION_A, "turn": 2}
    assert out["k3"]["response"] == "done: also handle negatives"
    assert out["b1"]["exit_code"] == 0
    assert out["b1"]["stdout"] == "hello\nverified\n"
    assert out["b1"]["cwd"] == str(project.resolve())
    # Parallel calls of one turn are answered together, in the next request.
    assert set(tool_outputs(sent[1])) == {"d1", "d2"}
    assert set(tool_outputs(sent[2])) - set(tool_outputs(sent[1])) == {"w1", "w2"}

    # The sessions it created, attributed to the run.
    listed = await service.list(ListParams())
    by_id = {s.id: s for s in listed.sessions}
    assert set(by_id) == {SESSION_A, SESSION_B}
    assert by_id[SESSION_A].turn == 2 and by_id[SESSION_B].adapter == "claude"
    assert {s.source for s in listed.sessions} == {f"orchestrator:{result.run_id}"}

    # The steps streamed as they happened are the persisted trajectory.
    assert [s.index for s in streamed] == list(range(len(streamed)))
    assert streamed == record.steps
    kinds = [s.kind for s in streamed]
    assert kinds.count("tool_call") == 11 and kinds.count("tool_result") == 11
    assert streamed[0].kind == "message"  # the text that came with the first calls
    from zwarm_ls.orchestrator.orchestrator import run_trajectory
    tail = run_trajectory(service.config, RunTrajectoryParams(run_id=result.run_id,
                                                              since_index=len(streamed) - 2))
    assert [s.index for s in tail.steps] == [len(streamed) - 2, len(streamed) - 1]
    assert tail.status == "exited"


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_tool_errors_reach_the_model(provider: str, service: SessionService,
                                           project: Path, model_server) -> None:
    server = model_server([
        calls(call("check_session", "e1", session_id="nope0000"),
              call("delegate", "e2", task=""),
              call("no_such_tool", "e3"),
              call("delegate", "e4", task="x", working_dir="/")),
        calls(call("exit", "x", message="gave up")),
    ])
    configure(service, project, provider, server)
    result = await Orchestrator(service, "try things").run()
    assert result.status == "exited"
    out = tool_outputs(bodies(server, provider)[1])
    assert out["e1"]["ok"] is False and "nope0000" in out["e1"]["error"]
    assert out["e1"]["code"] == -32001
    assert out["e2"]["error"].startswith("invalid arguments: task")
    assert "unknown tool 'no_such_tool'" in out["e3"]["error"]
    assert "delegate" in out["e3"]["hint"]
    assert "outside the allowed directories" in out["e4"]["error"] and out["e4"]["hint"]


async def test_text_only_reply_keeps_the_run_going(service: SessionService, project: Path,
                                                   model_server) -> None:
    server = model_server([{"text": "thinking out loud"},
                           calls(call("exit", "x", message="ok"))])
    configure(service, project, "openai", server)
    result = await Orchestrator(service, "t").run()
    assert result.status == "exited" and result.step_count == 2
    assert any("call exit(message)" in json.dumps(i) for i in bodies(server, "openai")[1]["input"])


async def test_missing_key_fails_with_a_clear_message(service: SessionService, project: Path,
                                                      model_server,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    configure(service, project, "anthropic", model_server([]))
    service.config.orchestrator.base_url = None
    monkeypatch.delenv("ZWARM_TEST_KEY")
    result = await Orchestrator(service, "t").run()
    assert result.status == "failed"
    assert "$ZWARM_TEST_KEY is not set" in (result.message or "")
