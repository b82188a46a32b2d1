"""The real Codex CLI and Claude Code CLI, driven end to end through the daemon (over
stdio, with pytest-lsp's client) against the scripted model server on loopback.

Every test runs for both CLIs. What a test asserts about the trajectory is what the
pinned real CLI produces (codex-cli 0.169.0, Claude Code 2.1.197), not what a fake says.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.model_server import iter_input_items, request_text

from .conftest import AGENTS, Project, find_cli, need, wait_no_leftovers

pytestmark = pytest.mark.real_agents

BOTH = pytest.mark.parametrize("agent_name", ["codex", "claude"])


def kinds(steps: list[dict[str, Any]]) -> list[str]:
    return [s["kind"] for s in steps]


def find_step(steps: list[dict[str, Any]], kind: str, contains: str = "") -> dict[str, Any]:
    for step in steps:
        if step["kind"] == kind and contains in (step["summary"] + (step.get("detail") or "")):
            return step
    raise AssertionError(f"no {kind} step mentioning {contains!r} in:\n" + "\n".join(
        f"  {s['index']} t{s['turn']} {s['kind']}: {s['summary']}" for s in steps))


@BOTH
async def test_delegate_runs_a_shell_command_and_edits_a_file(
        agent_name: str, real_project: Project, start_daemon: Any) -> None:
    agent = AGENTS[agent_name]
    need(real_project, agent_name)
    server, root = real_project.server, real_project.root
    patched = root / "notes.txt"
    server.load(agent.scenario(
        {"tool_calls": [agent.shell("printf 'made by the shell\\n' > shell.txt && cat shell.txt")]},
        {"tool_calls": [agent.write_file(patched, "first line\nsecond line\n")]},
        {"text": "I wrote shell.txt and notes.txt.",
         "usage": {"input_tokens": 1200, "output_tokens": 80}},
    ))
    daemon = await start_daemon()

    started = await daemon.call("delegate", {"task": "Create shell.txt and notes.txt",
                                             "adapter": agent_name})
    assert started["adapter"] == agent_name and started["status"] in ("pending", "running")
    check = await daemon.wait_done(started["sessionId"])

    assert check["status"] == "completed", check
    assert (root / "shell.txt").read_text() == "made by the shell\n"
    assert patched.read_text() == "first line\nsecond line\n"

    steps = await daemon.steps(started["sessionId"])
    command = find_step(steps, "command", "made by the shell")
    # Shown as typed: without Codex's `/bin/bash -lc "…"` wrapper and its quoting.
    assert command["summary"] == "$ printf 'made by the shell\\n' > shell.txt && cat shell.txt"
    if agent_name == "codex":
        # Codex reports a command with its exit code and output in one item.
        assert command["exitCode"] == 0
        assert "made by the shell" in command["detail"].split("\n", 1)[1]
    else:
        # Claude reports the call, then its result (exit code 0 when not an error).
        result = find_step(steps[steps.index(command):], "tool_result", "made by the shell")
        assert result["exitCode"] == 0
    # The file-editing tool shows up as a file change naming the file (Codex reports no
    # file change for files that a shell command wrote, only for its patches).
    change = find_step(steps, "file_change")
    assert [f["path"] for f in change["files"]] == [str(patched)]
    assert change["files"][0].get("change") == "add"
    assert find_step(steps, "message", "I wrote shell.txt")["turn"] == 1

    assert check["response"] == "I wrote shell.txt and notes.txt."
    assert check["usage"]["inputTokens"] > 0 and check["usage"]["outputTokens"] > 0
    assert check["costUsd"] is not None and check["costUsd"] > 0
    listed = await daemon.call("listSessions", {})
    (summary,) = listed["sessions"]
    assert summary["status"] == "completed" and summary["costUsd"] == check["costUsd"]

    # The CLI really ran the tool and sent its output back to the model.
    requests = server.model_requests(agent.api)
    assert len(requests) == 3
    assert "made by the shell" in request_text(requests[1])
    assert requests[0]["body"]["model"]  # and it called the provider we configured


@BOTH
async def test_converse_resumes_the_same_agent_conversation(
        agent_name: str, real_project: Project, start_daemon: Any) -> None:
    agent = AGENTS[agent_name]
    need(real_project, agent_name)
    server = real_project.server
    server.load(agent.scenario({"text": "The secret word is PAPAYA."},
                               {"text": "You asked about PAPAYA; it is still PAPAYA."}))
    daemon = await start_daemon()

    started = await daemon.call("delegate", {"task": "Remember a secret word (KIWI-TASK).",
                                             "adapter": agent_name})
    session_id = started["sessionId"]
    first = await daemon.wait_done(session_id)
    assert first["status"] == "completed", first
    turn1_steps = await daemon.steps(session_id)

    conversed = await daemon.call("converse", {"sessionId": session_id,
                                               "message": "What was the word (FIG-FOLLOWUP)?"})
    assert conversed["turn"] == 2 and conversed["resumedNatively"] is True
    second = await daemon.wait_done(session_id)
    assert second["status"] == "completed", second
    assert second["turn"] == 2
    assert second["response"] == "You asked about PAPAYA; it is still PAPAYA."

    # Turn 2 steps are appended after turn 1's, which are unchanged.
    steps = await daemon.steps(session_id)
    assert steps[: len(turn1_steps)] == turn1_steps
    assert [s["index"] for s in steps] == list(range(len(steps)))
    turn2 = [s for s in steps if s["turn"] == 2]
    assert turn2 and all(s["turn"] == 1 for s in turn1_steps)
    assert find_step(turn2, "message", "still PAPAYA")

    # The model saw the first turn's history in the second request: native resume.
    first_req, second_req = server.model_requests(agent.api)
    history = request_text(second_req)
    assert "KIWI-TASK" in history and "The secret word is PAPAYA." in history
    assert "FIG-FOLLOWUP" in history and "FIG-FOLLOWUP" not in request_text(first_req)
    roles = [item.get("role") for item in iter_input_items(second_req)]
    assert "assistant" in roles
    header = "session-id" if agent_name == "codex" else "x-claude-code-session-id"
    assert first_req["headers"][header] == second_req["headers"][header]
    # Usage accumulates per turn without double counting (Codex reports a running
    # total for a resumed thread, Claude per run; the server charges 100 in per call).
    assert second["usage"]["inputTokens"] == 200, second["usage"]


PROVIDER_ERRORS = {
    # (scenario reply, a fragment of the error the CLI reports) per CLI.
    "http_500": {
        "reply": {"http_error": 500, "message": "scripted upstream failure", "times": 4},
        "codex": "high demand",  # codex words every 5xx this way
        "claude": "500 scripted upstream failure",
    },
    "broken_stream": {
        "reply": {"broken_stream": True, "times": 4},
        "codex": "stream disconnected before completion",
        "claude": "Connection to the API was lost",
    },
}


@BOTH
@pytest.mark.parametrize("error", sorted(PROVIDER_ERRORS))
async def test_provider_error_fails_the_session_with_the_agents_message(
        agent_name: str, error: str, real_project: Project, start_daemon: Any) -> None:
    agent = AGENTS[agent_name]
    need(real_project, agent_name)
    spec = PROVIDER_ERRORS[error]
    real_project.server.load(agent.scenario(spec["reply"]))
    daemon = await start_daemon()

    started = await daemon.call("delegate", {"task": "This will fail upstream",
                                             "adapter": agent_name})
    check = await daemon.wait_done(started["sessionId"])

    assert check["status"] == "failed", check
    assert spec[agent_name] in (check.get("error") or ""), check
    peek = await daemon.call("peekSession", {"sessionId": started["sessionId"]})
    assert peek["status"] == "failed" and peek["isRunning"] is False
    steps = await daemon.steps(started["sessionId"])
    assert spec[agent_name] in find_step(steps, "error", spec[agent_name])["detail"]
    (summary,) = (await daemon.call("listSessions", {}))["sessions"]
    assert summary["needsAttention"] is True and spec[agent_name] in summary["error"]
    assert real_project.server.model_requests(agent.api)  # it did reach the provider


@BOTH
async def test_end_a_session_mid_stream_kills_it_and_leaves_no_process(
        agent_name: str, real_project: Project, start_daemon: Any) -> None:
    agent = AGENTS[agent_name]
    need(real_project, agent_name)
    server = real_project.server
    server.load(agent.scenario({"hang": 300, "text": "too late"}))
    daemon = await start_daemon()

    started = await daemon.call("delegate", {"task": "Think for a long time",
                                             "adapter": agent_name})
    session_id = started["sessionId"]
    assert server.wait_for_requests(1, agent.api, timeout=90), "the CLI never called the model"
    peek = await daemon.call("peekSession", {"sessionId": session_id})
    assert peek["status"] == "running" and peek["isRunning"] is True

    run = json.loads((real_project.root / ".zwarm" / "sessions" / session_id / "turns" /
                      "turn_1.run.json").read_text())
    ended = await daemon.call("endSession", {"sessionId": session_id, "reason": "test stop"})
    assert ended["status"] == "killed" and ended["wasRunning"] is True

    check = await daemon.call("checkSession", {"sessionId": session_id})
    assert check["status"] == "killed" and check["isRunning"] is False
    assert "test stop" in (check.get("error") or "")
    binary = real_project.codex_binary if agent_name == "codex" else real_project.claude_binary
    assert binary is not None
    left = wait_no_leftovers(binary, str(real_project.root), run["pgid"])
    assert not left, "processes survived endSession:\n" + "\n".join(left)
    # The model request was cut off mid-stream: nothing after the opening was answered.
    assert len(server.model_requests(agent.api)) == 1


@BOTH
async def test_permission_refusal_is_an_error_step_not_a_crash(
        agent_name: str, real_project: Project, start_daemon: Any, tmp_path: Path) -> None:
    agent = AGENTS[agent_name]
    need(real_project, agent_name)
    outside = tmp_path / "outside-the-project"
    outside.mkdir()
    target = outside / "forbidden.txt"
    if agent_name == "claude":
        # Claude's default permission mode: writing outside the working directory is
        # refused in -p mode (nobody is there to grant it).
        real_project.configure("claude", permission_mode="default", allowed_tools=[])
        attempt = agent.write_file(target, "should not exist\n")
        expected = "haven't granted"
    else:
        # Codex's default workspace-write sandbox: the write fails inside bwrap. That
        # sandbox lets commands write /tmp (where pytest keeps this test's files) unless
        # told not to; the project itself stays writable as the workspace root.
        real_project.configure("codex", sandbox_workspace_write={
            "exclude_slash_tmp": True, "exclude_tmpdir_env_var": True})
        attempt = agent.shell(f"echo nope > {target}")
        expected = "Read-only file system"
    real_project.server.load(agent.scenario({"tool_calls": [attempt]},
                                            {"text": "I could not write that file."}))
    daemon = await start_daemon()

    started = await daemon.call("delegate", {"task": f"Write {target}", "adapter": agent_name})
    check = await daemon.wait_done(started["sessionId"])

    assert check["status"] == "completed", check  # the agent carried on; no crash
    assert check["response"] == "I could not write that file."
    assert not target.exists()
    steps = await daemon.steps(started["sessionId"])
    if agent_name == "claude":
        refusal = find_step(steps, "error", expected)
        assert "Write failed" in refusal["summary"]
    else:
        # codex-cli 0.169 (the pinned version) emits no item at all for a command the
        # sandbox refused (an ordinary failing command does get one, with its exit code):
        # the refusal shows only in what goes back to the model, checked below. A CLI
        # upgrade that starts reporting it makes this fail, on purpose: then assert the
        # step is a failed command.
        refused = [s for s in steps if s["kind"] == "command" and "forbidden.txt" in s["summary"]]
        assert refused == [], refused
    # The refusal went back to the model as the tool's result.
    assert expected in request_text(real_project.server.model_requests(agent.api)[1])


def write_legacy_session(root: Path, task: str, answer: str) -> str:
    """A session exactly as zwarm 3.9 wrote it: no `adapter` (so: codex), no resume id,
    naive local timestamps, the CLI's output in turns/turn_1.jsonl."""
    session_id = str(uuid.uuid4())
    folder = root / ".zwarm" / "sessions" / session_id
    (folder / "turns").mkdir(parents=True)
    stamp = datetime.now().replace(microsecond=1).isoformat()
    (folder / "meta.json").write_text(json.dumps({
        "id": session_id, "task": task, "status": "completed", "working_dir": str(root),
        "created_at": stamp, "updated_at": stamp, "pid": 4242, "exit_code": 0,
        "model": "gpt-5.1-codex-mini", "turn": 1,
        "messages": [{"role": "user", "content": task, "timestamp": stamp, "metadata": {}},
                     {"role": "assistant", "content": answer, "timestamp": stamp,
                      "metadata": {}}],
        "token_usage": {"input_tokens": 500, "output_tokens": 40, "total_tokens": 540},
        "error": None, "source": "user",
    }, indent=2))
    (folder / "turns" / "turn_1.jsonl").write_text(
        json.dumps({"type": "item.completed", "item": {"id": "item_0", "type": "agent_message",
                                                       "text": answer}}) + "\n"
        + json.dumps({"type": "turn.completed", "usage": {"input_tokens": 500,
                                                          "output_tokens": 40}}) + "\n")
    return session_id


async def test_mixed_store_lists_everything_and_continues_each_with_its_own_cli(
        real_project: Project, start_daemon: Any) -> None:
    find_cli("codex")
    find_cli("claude")
    need(real_project, "codex")
    need(real_project, "claude")
    server, root = real_project.server, real_project.root
    legacy_id = write_legacy_session(root, "Add a docstring (LEGACY-TASK)",
                                     "Added a docstring (LEGACY-ANSWER).")
    server.load({"responses": [{"text": "codex turn one"}, {"text": "codex turn two"},
                               {"text": "legacy turn two"}],
                 "messages": [{"text": "claude turn one"}, {"text": "claude turn two"}]})
    daemon = await start_daemon()

    codex_id = (await daemon.call("delegate", {"task": "codex task (CODEX-TASK)",
                                               "adapter": "codex"}))["sessionId"]
    assert (await daemon.wait_done(codex_id))["status"] == "completed"
    claude_id = (await daemon.call("delegate", {"task": "claude task (CLAUDE-TASK)",
                                                "adapter": "claude"}))["sessionId"]
    assert (await daemon.wait_done(claude_id))["status"] == "completed"

    listed = await daemon.call("listSessions", {})
    by_id = {s["id"]: s for s in listed["sessions"]}
    assert set(by_id) == {codex_id, claude_id, legacy_id}
    assert {i: by_id[i]["adapter"] for i in by_id} == {
        codex_id: "codex", claude_id: "claude", legacy_id: "codex"}
    assert listed["counts"]["total"] == 3 and listed["counts"]["completed"] == 3
    legacy_check = await daemon.call("checkSession", {"sessionId": legacy_id})
    assert legacy_check["response"] == "Added a docstring (LEGACY-ANSWER)."

    # Continue each one; each goes to its own CLI (and so to its own API).
    expected = {codex_id: ("responses", True, "codex turn two"),
                claude_id: ("messages", True, "claude turn two"),
                legacy_id: ("responses", False, "legacy turn two")}
    for session_id, (api, native, answer) in expected.items():
        before = len(server.model_requests(api))
        conversed = await daemon.call("converse", {"sessionId": session_id,
                                                   "message": f"follow up {session_id[:8]}"})
        assert conversed["resumedNatively"] is native
        check = await daemon.wait_done(session_id)
        assert check["status"] == "completed" and check["turn"] == 2, check
        assert check["response"] == answer
        new = server.model_requests(api)[before:]
        assert len(new) == 1 and f"follow up {session_id[:8]}" in request_text(new[0])

    codex_req = server.model_requests("responses")[1]
    assert "CODEX-TASK" in request_text(codex_req)  # resumed thread: its own history
    legacy_req = server.model_requests("responses")[2]
    # No resume id in a zwarm 3.9 store: the transcript is replayed to a fresh codex run.
    assert "LEGACY-TASK" in request_text(legacy_req)
    assert "LEGACY-ANSWER" in request_text(legacy_req)
    assert "CODEX-TASK" not in request_text(legacy_req)
    assert "CLAUDE-TASK" in request_text(server.model_requests("messages")[1])
    final = await daemon.call("listSessions", {})
    assert {s["id"]: s["turn"] for s in final["sessions"]} == {
        codex_id: 2, claude_id: 2, legacy_id: 2}
