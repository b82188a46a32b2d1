"""Command lines and event parsing of the codex and claude adapters."""

from __future__ import annotations

import json

from zwarm_ls.adapters import get_adapter
from zwarm_ls.adapters.base import TurnState
from zwarm_ls.config import ClaudeConfig, CodexConfig
from zwarm_ls.costs import estimate_cost
from zwarm_ls.protocol import TokenUsage
from zwarm_ls.store import SessionMeta, TurnRecord
from zwarm_ls.turns import turn_usage

codex = get_adapter("codex")
claude = get_adapter("claude")


def parse(adapter, events):
    state = TurnState()
    steps = [s for e in events for s in adapter.parse_line(json.dumps(e).encode(), state)]
    return state, steps


def test_codex_command_is_sandboxed_by_default_and_reads_prompt_from_stdin():
    argv = codex.command(CodexConfig(), model="m", working_dir="/w", resume_id=None)
    assert argv[:3] == ["codex", "exec", "--json"]
    assert argv[argv.index("--sandbox") + 1] == "workspace-write"
    assert "--dangerously-bypass-approvals-and-sandbox" not in argv
    assert argv[-1] == "-"
    resumed = codex.command(CodexConfig(), model="m", working_dir="/w", resume_id="T1")
    assert resumed[-3:] == ["resume", "T1", "-"]


def test_codex_overrides_become_typed_toml_values():
    cfg = CodexConfig(overrides={"model_reasoning_effort": "high",
                                 "features": {"web_search_request": True},
                                 "model_providers": {"p": {"base_url": "http://x/v1",
                                                           "request_max_retries": 0}}})
    argv = codex.command(cfg, model="m", working_dir="/w", resume_id=None)
    pairs = [argv[i + 1] for i, a in enumerate(argv) if a == "-c"]
    assert 'model_reasoning_effort="high"' in pairs
    assert "features.web_search_request=true" in pairs
    assert 'model_providers.p.base_url="http://x/v1"' in pairs
    assert "model_providers.p.request_max_retries=0" in pairs


def test_danger_only_when_configured():
    argv = codex.command(CodexConfig(full_danger=True), model="m", working_dir="/w",
                         resume_id=None)
    assert "--dangerously-bypass-approvals-and-sandbox" in argv and "--sandbox" not in argv
    cargv = claude.command(ClaudeConfig(), model="sonnet", working_dir="/w", resume_id=None)
    assert cargv[cargv.index("--permission-mode") + 1] == "acceptEdits"
    assert "--dangerously-skip-permissions" not in cargv


def test_claude_resume_and_variadic_allowed_tools_last():
    argv = claude.command(ClaudeConfig(allowed_tools=["Bash", "Write"]), model="sonnet",
                          working_dir="/w", resume_id="S1")
    assert argv[argv.index("--resume") + 1] == "S1"
    assert argv[-2:] == ["--allowedTools", "Bash,Write"]


def test_codex_events_map_to_steps_with_files_and_usage():
    state, steps = parse(codex, [
        {"type": "thread.started", "thread_id": "T"},
        {"type": "turn.started"},
        {"type": "item.started", "item": {"type": "command_execution",
                                          "command": "/bin/bash -lc 'ls -la'"}},
        {"type": "item.completed", "item": {"type": "command_execution",
                                            "command": "/bin/bash -lc 'ls -la'",
                                            "aggregated_output": "a\n", "exit_code": 2}},
        {"type": "item.completed", "item": {"type": "file_change", "changes": [
            {"path": "/w/a.py", "kind": "update"}, {"path": "/w/b.py", "kind": "add"}]}},
        {"type": "item.completed", "item": {"type": "mcp_tool_call", "server": "s", "tool": "t",
                                            "arguments": {"x": 1}}},
        {"type": "item.completed", "item": {"type": "web_search", "query": "pygls"}},
        {"type": "item.completed", "item": {"type": "todo_list", "items": [
            {"text": "a", "completed": True}, {"text": "b", "completed": False}]}},
        {"type": "item.completed", "item": {"type": "error",
                                            "message": "Model metadata not found"}},
        {"type": "item.completed", "item": {"type": "agent_message", "text": "done"}},
        {"type": "brand.new.event", "x": 1},
        {"type": "turn.completed", "usage": {"input_tokens": 10, "cached_input_tokens": 4,
                                             "output_tokens": 3}},
    ])
    kinds = [s.kind for s in steps]
    assert kinds == ["command", "file_change", "tool_call", "tool_call", "tool_call", "error",
                     "message", "raw", "usage"]
    assert steps[0].summary == "$ ls -la" and steps[0].exit_code == 2
    assert [(f.path, f.change) for f in steps[1].files] == [("/w/a.py", "update"),
                                                             ("/w/b.py", "add")]
    assert steps[4].summary == "todo list: 1/2 done"
    assert json.loads(steps[7].detail)["type"] == "brand.new.event"
    assert state.resume_id == "T" and state.messages == ["done"]
    # a non-fatal error item does not fail the turn
    assert codex.outcome(state, 0).status == "completed"
    assert state.usage.cached_input_tokens == 4


def test_codex_turn_failed_and_silent_crash_are_failures():
    state, _ = parse(codex, [{"type": "turn.failed", "error": {"message": "quota"}}])
    assert codex.outcome(state, 1).status == "failed" and codex.outcome(state, 1).error == "quota"
    state, _ = parse(codex, [{"type": "turn.started"}])
    assert codex.outcome(state, 0).status == "failed"  # zwarm called this completed (W5)
    state, _ = parse(codex, [{"type": "turn.completed", "usage": {}}])
    assert codex.outcome(state, 137).status == "failed"


def test_malformed_lines_are_counted_and_skipped():
    state = TurnState()
    assert codex.parse_line(b'{"type": "turn.sta', state) == []
    assert codex.parse_line(b"\xff\xfe garbage", state) == []
    assert codex.parse_line(b"[1, 2]", state) == []
    assert state.malformed_lines == 3


def test_claude_events_map_to_steps():
    state, steps = parse(claude, [
        {"type": "system", "subtype": "init", "session_id": "S"},
        {"type": "assistant", "message": {"content": [
            {"type": "thinking", "thinking": "hmm"},
            {"type": "tool_use", "id": "t1", "name": "Bash", "input": {"command": "make"}},
            {"type": "tool_use", "id": "t2", "name": "Write",
             "input": {"file_path": "/w/new.txt", "content": "a\nb\n"}}]}},
        {"type": "user", "message": {"content": [
            {"type": "tool_result", "tool_use_id": "t1", "content": "Exit code 2\nboom",
             "is_error": True},
            {"type": "tool_result", "tool_use_id": "t2",
             "content": [{"type": "text", "text": "File created"}]}]}},
        {"type": "assistant", "message": {"content": [{"type": "text", "text": "ok"}]}},
        {"type": "result", "subtype": "success", "is_error": False, "result": "ok",
         "session_id": "S", "total_cost_usd": 0.5,
         "usage": {"input_tokens": 7, "output_tokens": 2, "cache_read_input_tokens": 3}},
    ])
    assert [s.kind for s in steps] == ["reasoning", "command", "file_change", "error",
                                       "tool_result", "message", "usage"]
    assert steps[1].summary == "$ make"
    assert steps[2].files[0].path == "/w/new.txt" and steps[2].files[0].range.end.line == 2
    assert steps[3].exit_code == 2 and "Bash failed" in steps[3].summary
    assert state.resume_id == "S" and state.reported_cost == 0.5
    assert state.messages == ["ok"]
    assert claude.outcome(state, 0).status == "completed"


def test_claude_api_error_fails_the_turn_whatever_the_text():
    state, steps = parse(claude, [
        {"type": "assistant", "message": {"content": [{"type": "text",
                                                       "text": "API Error: 500"}]}},
        {"type": "result", "subtype": "success", "is_error": True, "result": "API Error: 500",
         "api_error_status": 500},
    ])
    outcome = claude.outcome(state, 1)
    assert outcome.status == "failed" and "API Error: 500" in outcome.error
    assert steps[-1].kind == "error"


def test_codex_cumulative_usage_is_not_double_counted():
    meta = SessionMeta(id="s", turns=[TurnRecord(turn=1, usage={"input_tokens": 100,
                                                                "output_tokens": 10})])
    meta.turns[0].resume_id = "T"
    reported = TokenUsage(input_tokens=250, output_tokens=30)
    assert turn_usage(meta, 2, reported, "T", cumulative=True) == TokenUsage(
        input_tokens=150, output_tokens=20)
    assert turn_usage(meta, 2, reported, "T", cumulative=False) == reported


def test_cached_tokens_are_priced_at_the_cached_rate():
    # gpt-5.1-codex-mini: $0.25 in, $0.025 cached, $2 out per million; input includes cached
    usage = TokenUsage(input_tokens=1_000_000, cached_input_tokens=800_000, output_tokens=0)
    assert estimate_cost("gpt-5.1-codex-mini", usage) == round(0.2 * 0.25 + 0.8 * 0.025, 6)
    # sonnet: cache reads at 10% and writes at 125% of $3, on top of input
    usage = TokenUsage(input_tokens=1_000_000, cached_input_tokens=1_000_000,
                       cache_creation_input_tokens=1_000_000, output_tokens=1_000_000)
    assert estimate_cost("claude-sonnet-4-5", usage) == round(3 + 0.3 + 3.75 + 15, 6)
    assert estimate_cost("unknown-model", usage) is None
