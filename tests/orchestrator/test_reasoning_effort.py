"""`[orchestrator] reasoning_effort` and `orchestrate --model/--reasoning-effort` reach the
model: OpenAI's `reasoning.effort`, Anthropic's extended-thinking budget (whose thinking
blocks go back with the turn they belong to)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.orchestrator.conftest import bodies, call, calls, write_config
from zwarm_ls.orchestrator.history import Item, ToolCall, ToolOutput
from zwarm_ls.orchestrator.providers.anthropic import to_anthropic_messages


def orchestrate(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "zwarm_ls.cli", "orchestrate", *args,
                           "--root", str(project), "--json"], capture_output=True, text=True,
                          timeout=120)


def test_orchestrate_model_and_effort_options_reach_openai(project: Path, model_server) -> None:
    server = model_server({"responses": [calls(call("list_sessions")),
                                         calls(call("exit", message="done"))]})
    write_config(project, "openai", server)
    out = orchestrate(project, "look around", "--model", "gpt-5.1-codex",
                      "--reasoning-effort", "high")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.splitlines()[-1])["status"] == "exited"
    sent = bodies(server, "openai")
    assert [b["model"] for b in sent] == ["gpt-5.1-codex"] * 2
    assert [b["reasoning"] for b in sent] == [{"effort": "high"}] * 2


def test_configured_effort_is_an_anthropic_thinking_budget(project: Path,
                                                           model_server) -> None:
    server = model_server({"messages": [calls(call("exit", message="done"))]})
    write_config(project, "anthropic", server, 'reasoning_effort = "low"\n')
    out = orchestrate(project, "look around")
    assert out.returncode == 0, out.stderr
    [body] = bodies(server, "anthropic")
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 4096}
    assert body["max_tokens"] == 4096 + 4096


def test_thinking_blocks_go_back_first_in_their_turn() -> None:
    thinking = [{"type": "thinking", "thinking": "plan", "signature": "sig"},
                {"type": "redacted_thinking", "data": "xyz"}]
    items = [Item(role="user", text="task"),
             Item(role="assistant", text="", thinking=thinking,
                  tool_calls=[ToolCall(call_id="t1", name="list_sessions")]),
             Item(role="tool", results=[ToolOutput(call_id="t1", name="list_sessions",
                                                   output="{}")]),
             Item(role="developer", text="[watcher: x] hurry")]
    messages = to_anthropic_messages(items)
    assert messages[1]["content"][:2] == thinking
    assert messages[1]["content"][2]["type"] == "tool_use"
    # A developer (or system) nudge is user text in <system-reminder> tags.
    assert messages[2]["content"][-1] == {
        "type": "text", "text": "<system-reminder>\n[watcher: x] hurry\n</system-reminder>"}
