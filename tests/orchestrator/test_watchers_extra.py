"""The watchers zwarm 3.9 had beyond the basic four, through the real orchestrator loop
against the scripted model server (and the fake agent CLIs where sessions run):
`pattern` on agent output, `scope`, the `llm` judge and its budget, the `quality` gate on
exit, pausing (tool and config), `message_role`, and their state across a resume."""

from __future__ import annotations

import json
import os
import sys
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
from zwarm_ls.config import WatchersConfig, WatcherSpec, load_config
from zwarm_ls.orchestrator import Orchestrator
from zwarm_ls.orchestrator.orchestrator import read_run
from zwarm_ls.orchestrator.watchers import WatcherManager
from zwarm_ls.service import SessionService


def toml(name: str, config: str, role: str | None = None) -> str:
    """Only the watcher under test, so others cannot interfere."""
    head = f'message_role = "{role}"\n' if role else ""
    return (f"\n[watchers]\nenabled = true\n{head}[[watchers.watchers]]\nname = \"{name}\"\n"
            f"config = {{ {config} }}\n")


def nudges(service: SessionService, run_id: str) -> list[str]:
    return [i.text for i in read_run(service.config, run_id).items if i.tag == "nudge"]


def wait_all(*ids: str) -> dict:
    return calls(*(call("wait_for_sessions", f"w{n}", session_ids=[i], timeout_s=120)
                   for n, i in enumerate(ids)))


EXIT = calls(call("exit", "x1", message="done"))


# ----- pattern and scope --------------------------------------------------------------------


async def test_pattern_nudges_once_per_session_turn_on_agent_output(
        service: SessionService, project: Path, model_server, fixed_ids: list[str]) -> None:
    # The fake agent answers "done: <its prompt>", so the task text is its output.
    server = model_server([
        calls(call("delegate", "d1", task="Deploy failed with RATE LIMIT exceeded")),
        wait_all(SESSION_A), calls(call("list_sessions", "l1")), EXIT])
    configure(service, project, "openai", server, toml(
        "pattern", 'patterns = [{ regex = "rate limit \\\\w+" }, { regex = "never seen" }]'))
    result = await Orchestrator(service, "t").run()
    assert result.status == "exited", result
    [nudge] = nudges(service, result.run_id)
    assert nudge.startswith(f"[watcher: pattern] Session {SESSION_A[:8]} matched "
                            "/rate limit \\w+/: ")
    assert "RATE LIMIT exceeded" in nudge
    # It reaches the model in a step after the session's output appeared.
    sent = [json.dumps(b) for b in bodies(server, "openai")]
    assert "[watcher: pattern]" not in sent[0] and "[watcher: pattern]" in sent[-1]


async def test_pattern_stop_ends_the_run_resumably(
        service: SessionService, project: Path, model_server, fixed_ids: list[str]) -> None:
    server = model_server([calls(call("delegate", "d1", task="print the API token")),
                           wait_all(SESSION_A), EXIT])
    configure(service, project, "openai", server, toml(
        "pattern", 'patterns = [{ regex = "api token", action = "stop", '
                   'message = "{session} touched secrets: {match}" }]'))
    result = await Orchestrator(service, "t").run()
    assert (result.status, result.stopped_by) == ("stopped", "watcher:pattern")
    assert result.message == f"{SESSION_A[:8]} touched secrets: API token"
    # Resumed, the same match does not stop it again (the watcher's state was saved).
    resumed = await Orchestrator.resume(service, result.run_id).run()
    assert (resumed.status, resumed.message) == ("exited", "done")


async def test_pattern_on_the_orchestrators_own_history_as_zwarm_did(
        service: SessionService, project: Path, model_server) -> None:
    server = model_server([calls(call("bash", "b1", command="echo fine")),
                           calls(call("bash", "b2", command="echo 'Permission denied' >&2")),
                           EXIT])
    configure(service, project, "openai", server, toml(
        "pattern", 'source = "orchestrator", patterns = [{ regex = "permission denied", '
                   'action = "abort", message = "{match} ({line}); {other} kept" }]'))
    result = await Orchestrator(service, "t").run()
    assert (result.status, result.stopped_by, result.step_count) == \
        ("stopped", "watcher:pattern", 2)
    assert result.message is not None
    assert result.message.startswith("Permission denied (") and "{other} kept" in result.message


async def test_scope_limits_a_watcher_to_some_sessions(
        service: SessionService, project: Path, model_server, fixed_ids: list[str]) -> None:
    server = model_server([
        calls(call("delegate", "d1", task="fix the flaky test"),
              call("delegate", "d2", task="fix the flaky build", adapter="claude")),
        wait_all(SESSION_A, SESSION_B), calls(call("list_sessions", "l1")), EXIT])
    configure(service, project, "openai", server, toml(
        "pattern", 'patterns = [{ regex = "flaky" }], scope = { adapter = "claude" }'))
    result = await Orchestrator(service, "t").run()
    [nudge] = nudges(service, result.run_id)
    assert f"Session {SESSION_B[:8]}" in nudge and "flaky build" in nudge


async def test_zwarms_scope_watcher_nudges_on_an_avoided_keyword(
        service: SessionService, project: Path, model_server) -> None:
    server = model_server([calls(call("bash", "b1", command="git log -3")),
                           calls(call("bash", "b2", command="kubectl get pods")), EXIT])
    configure(service, project, "openai", server, toml(
        "scope", 'avoid_keywords = ["kubectl"], max_tangent_steps = 1'))
    result = await Orchestrator(service, "t").run()
    assert nudges(service, result.run_id) == [
        "[watcher: scope] 'kubectl' is outside this task's scope. Get back to the task."]


# ----- message_role -------------------------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_message_role_decides_how_a_nudge_is_sent(
        provider: str, service: SessionService, project: Path, model_server) -> None:
    server = model_server([calls(call("list_sessions"))] * 3 + [EXIT])
    configure(service, project, provider, server,
              toml("progress", "max_same_calls = 3", role="developer"))
    result = await Orchestrator(service, "t").run()
    [nudge] = nudges(service, result.run_id)
    last = bodies(server, provider)[-1]
    if provider == "openai":
        assert {"role": "developer", "content": nudge} in last["input"]
        assert not any(i.get("role") == "user" and "[watcher:" in i.get("content", "")
                       for i in last["input"])
    else:
        texts = [b["text"] for m in last["messages"] for b in m["content"]
                 if b.get("type") == "text"]
        assert f"<system-reminder>\n{nudge}\n</system-reminder>" in texts


# ----- the LLM judge ------------------------------------------------------------------------


JUDGE = [{"text": json.dumps({"status": "concern", "assessment": "it only polls",
                              "guidance": "Stop polling and delegate the task."})},
         {"text": 'Verdict: {"status": "ok", "assessment": "fine", "guidance": ""}'}]


@pytest.mark.parametrize(("budget", "judged"), [("max_calls = 2", 2),
                                                 ("max_tokens = 100", 1)])
async def test_llm_judge_nudges_within_its_budget(
        budget: str, judged: int, service: SessionService, project: Path,
        model_server) -> None:
    # The orchestrator talks to OpenAI, the judge to Anthropic: two separate queues.
    script = [calls(call("list_sessions", status=s)) for s in
              ("running", "completed", "failed", "killed", "pending", "running")]
    server = model_server({"responses": [*script, EXIT], "messages": JUDGE})
    configure(service, project, "openai", server, toml(
        "llm", f'provider = "anthropic", model = "judge-model", base_url = "{server.url}", '
               f'every = 2, {budget}'))
    result = await Orchestrator(service, "Add a CLI flag").run()
    assert result.status == "exited" and result.step_count == 7

    asked = bodies(server, "anthropic")
    assert len(asked) == judged  # steps 2, 4 and 6 are due; the budget allows `judged`
    assert asked[0]["model"] == "judge-model" and asked[0]["tools"] == []
    digest = asked[0]["messages"][0]["content"][0]["text"]
    assert "Task: Add a CLI flag" in digest and "Step 2 of" in digest
    assert '[2] list_sessions({"status": "completed"})' in digest
    assert nudges(service, result.run_id) == [
        "[watcher: llm] (concern) Stop polling and delegate the task."]
    assert read_run(service.config, result.run_id).watchers["watchers"]["llm"]["calls"] \
        == judged


# ----- the quality gate ---------------------------------------------------------------------


CHECK = ('command = ["{python}", "-c", "import pathlib, sys; ok = pathlib.Path(\'ok.txt\')'
         '.exists(); print(\'checked\', ok); sys.exit(0 if ok else 3)"]')


def quality(extra: str = "") -> str:
    return toml("quality", CHECK.replace("{python}", sys.executable) + extra)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_quality_check_must_pass_before_exit(
        provider: str, service: SessionService, project: Path, model_server) -> None:
    server = model_server([
        calls(call("exit", "x1", message="done early")),
        calls(call("bash", "b1", command="echo fixed > ok.txt")),
        calls(call("exit", "x2", message="done, verified"))])
    configure(service, project, provider, server, quality())
    result = await Orchestrator(service, "t").run()
    assert (result.status, result.message, result.step_count) == \
        ("exited", "done, verified", 3)
    refused = tool_outputs(bodies(server, provider)[1])["x1"]
    assert refused["ok"] is False
    assert "exit refused: the quality check failed" in refused["error"]
    assert "failed (exit 3)" in refused["error"] and "checked False" in refused["error"]
    summaries = [s.summary for s in read_run(service.config, result.run_id).steps]
    assert any("[watcher: quality] exit refused" in s for s in summaries)
    assert "[watcher: quality] the quality check passed" in summaries


async def test_quality_check_failing_too_often_stops_the_run(
        service: SessionService, project: Path, model_server) -> None:
    server = model_server([calls(call("exit", f"x{n}", message="done")) for n in range(3)])
    configure(service, project, "openai", server, quality(", max_failures = 2"))
    result = await Orchestrator(service, "t").run()
    assert (result.status, result.stopped_by, result.step_count) == \
        ("stopped", "watcher:quality", 2)
    assert "checked False" in (result.message or "")
    assert not (project / "ok.txt").exists()


# ----- pausing ------------------------------------------------------------------------------


def pause(call_id: str, name: str, steps: int, reason: str) -> dict:
    return {"name": "pause_watcher", "call_id": call_id,
            "arguments": {"name": name, "steps": steps, "reason": reason}}


async def test_pause_watcher_tool_silences_a_nudging_watcher(
        service: SessionService, project: Path, model_server) -> None:
    server = model_server([
        calls(pause("p1", "progress", 10, "waiting on a long build is intended")),
        calls(pause("p2", "budget", 5, "no")),
        *[calls(call("list_sessions"))] * 3,
        calls(pause("p3", "progress", 0, "resume")),
        *[calls(call("list_sessions"))] * 3, EXIT])
    configure(service, project, "openai", server,
              toml("progress", "max_same_calls = 3, stall_steps = 99")
              + '[[watchers.watchers]]\nname = "budget"\n')
    result = await Orchestrator(service, "t").run()
    outputs = tool_outputs(bodies(server, "openai")[-1])
    assert outputs["p1"]["note"] == "watcher progress paused until step 10"
    assert outputs["p2"]["ok"] is False and "cannot be paused" in outputs["p2"]["error"]
    assert outputs["p3"]["note"] == "watcher progress resumed"
    # Paused through three identical calls; resumed, the next three in a row nudge.
    found = nudges(service, result.run_id)
    assert len(found) == 1 and found[0].startswith("[watcher: progress]")
    sent = [json.dumps(b) for b in bodies(server, "openai")]
    assert len(sent) == 10
    assert "[watcher: progress]" not in sent[8] and "[watcher: progress]" in sent[9]


async def test_a_watcher_paused_in_config_stays_silent(service: SessionService, project: Path,
                                                       model_server) -> None:
    server = model_server([calls(call("list_sessions"))] * 4 + [EXIT])
    configure(service, project, "openai", server,
              toml("progress", "max_same_calls = 2, paused = true"))
    result = await Orchestrator(service, "t").run()
    assert result.status == "exited" and nudges(service, result.run_id) == []


# ----- configuration ------------------------------------------------------------------------


def test_bad_watcher_settings_are_reported_not_fatal(tmp_path: Path) -> None:
    manager = WatcherManager(WatchersConfig(message_role="assistant", watchers=[
        WatcherSpec(name="quality", config={"require_tests": True}),
        WatcherSpec(name="quality", config={"command": "pytest -q"}),
        WatcherSpec(name="pattern", config={"patterns": [{"regex": "("}]}),
        WatcherSpec(name="budget", config={"scope": {"adaptor": "codex"}}),
        WatcherSpec(name="progress")]), root=tmp_path)
    assert [w.name for w in manager.watchers] == ["progress"]
    assert manager.message_role == "user"
    text = "\n".join(manager.warnings)
    assert "message_role 'assistant' is not supported" in text
    assert "zwarm's require_tests and max_files_changed never ran" in text
    assert 'needs command = ["argv", "list"], run without a shell' in text
    assert "watcher 'pattern' ignored" in text and "scope takes a table" in text


async def test_a_bad_watcher_setting_is_reported_in_the_run(
        service: SessionService, project: Path, model_server) -> None:
    server = model_server([EXIT])
    configure(service, project, "openai", server, toml("pattern", 'patterns = ["("]'))
    result = await Orchestrator(service, "t").run()
    assert result.status == "exited"
    [error] = [s for s in read_run(service.config, result.run_id).steps if s.kind == "error"]
    assert error.summary.startswith("[watchers] watcher 'pattern' ignored: missing )")


def test_an_untrusted_folder_cannot_add_a_command_or_an_endpoint(tmp_path_factory) -> None:
    root = tmp_path_factory.mktemp("untrusted")  # not under the test's trusted folder
    (root / ".zwarm").mkdir()
    (root / ".zwarm" / "config.toml").write_text(
        toml("quality", 'command = ["touch", "pwned"]')
        + '[[watchers.watchers]]\nname = "llm"\nconfig = { base_url = "http://127.0.0.1:9" }\n'
        + '[[watchers.watchers]]\nname = "llm"\nconfig = { every = 3 }\n'
        + '[[watchers.watchers]]\nname = "progress"\n')
    config, warnings = load_config(root)
    assert [(w.name, w.config) for w in config.watchers.watchers] == [
        ("llm", {"every": 3}), ("progress", {})]
    assert [w.split(": ", 1)[1].split(" —")[0] for w in warnings] == [
        "ignored the quality watcher", "ignored the llm watcher"]
    trusted, warnings = load_config(root, {"trustedFolder": True})
    assert [w.name for w in trusted.watchers.watchers] == ["quality", "llm", "llm", "progress"]
    assert warnings == []


async def test_a_quality_command_that_hangs_fails_and_leaves_nothing_behind(
        tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    script = (f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); "
              "time.sleep(60)")
    manager = WatcherManager(WatchersConfig(watchers=[WatcherSpec(name="quality", config={
        "command": [sys.executable, "-c", script], "timeout_s": 1})]), root=tmp_path)
    failure, give_up = await manager.gate()
    assert failure is not None and failure.endswith("did not finish within 1s")
    assert give_up is False  # 1 of the default 3 failures
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


async def test_a_judge_that_cannot_be_reached_is_skipped_within_its_budget(
        service: SessionService, project: Path, model_server) -> None:
    server = model_server([calls(call("list_sessions", status=s)) for s in
                           ("running", "completed", "failed", "killed")] + [EXIT])
    configure(service, project, "openai", server, toml(
        "llm", 'provider = "anthropic", base_url = "http://127.0.0.1:9", every = 1, '
               'max_calls = 2'))  # nothing listens on port 9
    result = await Orchestrator(service, "t").run()
    assert result.status == "exited" and nudges(service, result.run_id) == []
    assert bodies(server, "anthropic") == []
    judge = read_run(service.config, result.run_id).watchers["watchers"]["llm"]
    assert (judge["calls"], judge["tokens"]) == (2, 0)


async def test_the_judges_spending_counts_in_the_run_budget(
        service: SessionService, project: Path, model_server) -> None:
    server = model_server({"responses": [calls(call("list_sessions"))] * 3 + [EXIT],
                           "messages": [{"text": '{"status": "ok"}'}] * 3})
    configure(service, project, "openai", server,
              toml("budget", "max_cost_usd = 0.00001")  # the orchestrator's model is unpriced
              + '[[watchers.watchers]]\nname = "llm"\n'
              + f'config = {{ provider = "anthropic", base_url = "{server.url}", '
                'model = "gpt-5-mini", every = 1 }\n')
    result = await Orchestrator(service, "t").run()
    # The judge runs after step 1 (after the budget's look); its 100 in / 20 out tokens of
    # gpt-5-mini ($0.000065) are over the limit when the budget looks after step 2.
    assert (result.status, result.stopped_by, result.step_count) == \
        ("budget_exhausted", "watcher:budget", 2)
    assert len(bodies(server, "anthropic")) == 1
