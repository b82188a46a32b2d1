"""Context trimming keeps tool calls with their outputs; tool schemas come from the
protocol models; the prompts carry the facts and no override clause; tool errors and
timeouts come back as results."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from zwarm_ls.config import load_config
from zwarm_ls.orchestrator.context import rounds, trim
from zwarm_ls.orchestrator.history import (
    Item,
    ToolCall,
    ToolOutput,
    UnpairedToolCall,
    close_dangling,
    user,
)
from zwarm_ls.orchestrator.prompts import orchestrator_prompt, pilot_prompt
from zwarm_ls.orchestrator.providers.anthropic import check_anthropic_pairs, to_anthropic_messages
from zwarm_ls.orchestrator.providers.openai import check_openai_pairs, to_openai_input
from zwarm_ls.orchestrator.tools import Tool, Toolbox, ToolContext, build_tools
from zwarm_ls.protocol import DelegateParams, SleepParams
from zwarm_ls.service import SessionService


def long_history(rounds_: int, output_size: int) -> list[Item]:
    items = [user("Task: the task", tag="task")]
    for n in range(rounds_):
        ids = [f"c{n}a", f"c{n}b"]
        items.append(Item(role="assistant", text=f"step {n}", tool_calls=[
            ToolCall(call_id=i, name="bash", arguments=json.dumps({"command": "x" * 50}))
            for i in ids]))
        items.append(Item(role="tool", results=[
            ToolOutput(call_id=i, name="bash", output="o" * output_size) for i in ids]))
        if n % 3 == 0:
            items.append(user(f"[watcher: x] nudge {n}", tag="nudge"))
    return items


@pytest.mark.parametrize("budget", [500, 2_000, 7_000, 50_000])
def test_trim_never_separates_calls_from_outputs(budget: int) -> None:
    items = long_history(30, 300)
    kept = trim(items, budget, system_chars=100)
    assert kept[0].tag == "task"
    assert kept[-1] == items[-1]
    check_openai_pairs(to_openai_input(kept))
    check_anthropic_pairs(to_anthropic_messages(kept))
    if budget < sum(i.chars() for i in items):
        assert kept[1].tag == "trimmed" and "earlier items" in kept[1].text
        assert sum(i.chars() for i in kept) <= budget or len(rounds(kept)) <= 3


def test_trim_leaves_a_small_history_alone() -> None:
    items = long_history(2, 10)
    assert trim(items, 100_000) == items


def test_pair_checks_catch_orphans() -> None:
    call = Item(role="assistant", tool_calls=[ToolCall(call_id="c1", name="bash")])
    with pytest.raises(UnpairedToolCall):
        check_openai_pairs(to_openai_input([user("t"), call]))
    with pytest.raises(UnpairedToolCall):
        check_anthropic_pairs(to_anthropic_messages([user("t"), call]))
    orphan = Item(role="tool", results=[ToolOutput(call_id="zz", name="bash", output="")])
    with pytest.raises(UnpairedToolCall):
        check_openai_pairs(to_openai_input([user("t"), orphan]))


def test_an_interrupted_step_is_closed_before_sending() -> None:
    call = Item(role="assistant", tool_calls=[ToolCall(call_id="c1", name="delegate")])
    closed = close_dangling([user("t"), call])
    check_openai_pairs(to_openai_input(closed))
    assert "interrupted" in closed[-1].results[0].output


def test_anthropic_merges_consecutive_user_items() -> None:
    call = Item(role="assistant", tool_calls=[ToolCall(call_id="c1", name="x")])
    out = Item(role="tool", results=[ToolOutput(call_id="c1", name="x", output="r")])
    messages = to_anthropic_messages([user("t"), call, out, user("[watcher: a] b")])
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert [b["type"] for b in messages[2]["content"]] == ["tool_result", "text"]


def test_schemas_come_from_the_protocol_models() -> None:
    tools = {t.name: t for t in build_tools("codex", with_exit=True)}
    assert set(tools) == {"delegate", "converse", "peek_session", "check_session",
                          "get_trajectory", "list_sessions", "end_session", "sleep",
                          "wait_for_sessions", "bash", "chat", "exit", "session_changes",
                          "apply_changes", "pause_watcher"}
    delegate = tools["delegate"].schema().parameters
    assert delegate["required"] == ["task"]
    assert set(delegate["properties"]) == set(DelegateParams.model_fields) - {
        "anchor", "source", "selection", "executor"}
    assert delegate["properties"]["adapter"]["default"] == "codex"
    assert delegate["properties"]["adapter"]["enum"] == ["codex", "claude"]
    sleep = tools["sleep"].schema().parameters["properties"]["seconds"]
    assert sleep["maximum"] == SleepParams.model_fields["seconds"].metadata[1].le == 300
    status = tools["list_sessions"].schema().parameters["properties"]["status"]
    assert "$ref" not in json.dumps(status) and "running" in json.dumps(status)
    assert set(tools["get_trajectory"].schema().parameters["properties"]) == {
        "session_id", "full", "since_index"}
    assert "exit" not in {t.name for t in build_tools("codex", with_exit=False)}


def test_prompts_carry_the_facts_and_no_override(project: Path) -> None:
    (project / "zwarm.yaml").write_text("description: A billing service\n"
                                        "constraints: [never touch migrations/]\n")
    config, _ = load_config(project)
    for prompt in (orchestrator_prompt(config), pilot_prompt(config)):
        for name in ("delegate(task, adapter=\"codex\", model=None, working_dir=None, "
                     "isolation=None)", "converse(", "peek_session(", "check_session(",
                     "get_trajectory(", "list_sessions(", "end_session(", "sleep(",
                     "wait_for_sessions(", "bash(", "chat(", "session_changes(",
                     "apply_changes("):
            assert name in prompt
        for fact in ("gpt-5.1-codex-mini", "sonnet", "A billing service",
                     "never touch migrations/", str(config.root), "parallel"):
            assert fact in prompt
        lowered = prompt.lower()
        assert "garlic" not in lowered and "developer" not in lowered
        assert "above" not in lowered
    assert "exit(message)" in orchestrator_prompt(config)
    assert "exit(" not in pilot_prompt(config)


async def test_tool_timeouts_and_crashes_become_results(service: SessionService) -> None:
    ctx = ToolContext(service=service, config=service.config.orchestrator, source="test")

    async def slow(_ctx: ToolContext, _p: SleepParams) -> SleepParams:
        await asyncio.sleep(60)
        raise AssertionError("not reached")

    async def broken(_ctx: ToolContext, _p: SleepParams) -> SleepParams:
        raise RuntimeError("boom")

    box = Toolbox(ctx, [Tool("slow", "", SleepParams, slow, timeout=lambda c, p: 0.05),
                        Tool("broken", "", SleepParams, broken)])
    outs = await box.run_all([ToolCall(call_id="1", name="slow", arguments='{"seconds": 1}'),
                              ToolCall(call_id="2", name="broken", arguments='{"seconds": 1}'),
                              ToolCall(call_id="3", name="slow", arguments="not json")])
    decoded = [json.loads(o.output) for o in outs]
    assert "did not finish within 0s" in decoded[0]["error"]
    assert decoded[1]["error"] == "broken failed: RuntimeError: boom"
    assert "not valid JSON" in decoded[2]["error"]
    assert all(o.is_error for o in outs)


async def test_bash_caps_output_and_times_out(service: SessionService) -> None:
    cfg = service.config.orchestrator.model_copy(update={"bash_output_cap": 100})
    box = Toolbox(ToolContext(service=service, config=cfg, source="t"),
                  build_tools("codex", False))
    big, slow = await box.run_all([
        ToolCall(call_id="1", name="bash", arguments=json.dumps(
            {"command": "yes 0123456789 | head -c 100000; echo err >&2"})),
        ToolCall(call_id="2", name="bash", arguments=json.dumps(
            {"command": "sleep 30", "timeout_s": 0.2}))])
    big_out, slow_out = json.loads(big.output), json.loads(slow.output)
    assert len(big_out["stdout"]) == 100 and big_out["truncated"] and big_out["stderr"] == "err\n"
    assert slow_out["timed_out"] is True and "exit_code" not in slow_out


async def test_sleep_with_nothing_running_returns_at_once(service: SessionService) -> None:
    box = Toolbox(ToolContext(service=service, config=service.config.orchestrator,
                              source="t"), build_tools("codex", False))
    (out,) = await box.run_all([ToolCall(call_id="1", name="sleep",
                                         arguments='{"seconds": 300}')])
    assert json.loads(out.output) == {"ok": True, "slept_s": 0.0, "woke_early": True,
                                      "finished": [], "still_running": []}


async def test_review_and_apply_a_crew_members_worktree(service: SessionService, project: Path,
                                                        scenario) -> None:
    from tests.lsp.changes_helpers import AGENT, ORIGINAL, agent_turn, make_repo

    make_repo(project)
    scenario(agent_turn())
    box = Toolbox(ToolContext(service=service, config=service.config.orchestrator,
                              source="orchestrator:t"), build_tools("codex", True))
    (started,) = await box.run_all([ToolCall(call_id="1", name="delegate", arguments=json.dumps(
        {"task": "edit", "isolation": "worktree"}))])
    session_id = json.loads(started.output)["session_id"]
    (waited,) = await box.run_all([ToolCall(call_id="2", name="wait_for_sessions",
                                            arguments=json.dumps({"timeout_s": 60}))])
    assert json.loads(waited.output)["finished"]
    (changes,) = await box.run_all([ToolCall(call_id="3", name="session_changes",
                                             arguments=json.dumps({"session_id": session_id}))])
    result = json.loads(changes.output)
    assert result["ok"] and result["counts"]["pending"] == 2
    assert (project / "code.py").read_text() == ORIGINAL
    (applied,) = await box.run_all([ToolCall(call_id="4", name="apply_changes",
                                             arguments=json.dumps({"session_id": session_id}))])
    assert len(json.loads(applied.output)["applied"]) == 2
    assert (project / "code.py").read_text() == AGENT
