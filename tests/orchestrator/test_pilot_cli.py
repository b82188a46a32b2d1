"""`zwarm-ls pilot` in a terminal: colon commands answered locally (unknown ones never
reach the model), multiline messages, :status and :sessions, --model and
--reasoning-effort, against the scripted model server and the fake agent CLIs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.orchestrator.conftest import bodies, call, calls, user_texts, write_config

STDIN = ''':help
:bogus
"""first line
second line"""
:status
:sessions
:quit
'''


def pilot(project: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "zwarm_ls.cli", "pilot", *args,
                           "--root", str(project)], input=stdin, capture_output=True,
                          text=True, timeout=120)


def test_the_pilot_repl(project: Path, fake_clis: Path, model_server) -> None:
    server = model_server({"responses": [
        calls(call("delegate", "d1", task="write hello")),
        {"text": "Dispatched one session.", "usage": {"input_tokens": 1200,
                                                      "output_tokens": 30}}]})
    write_config(project, "openai", server)

    out = pilot(project, "--model", "other-model", "--reasoning-effort", "low", stdin=STDIN)

    assert out.returncode == 0, out.stderr
    assert ":goto Tn|root" in out.stdout and ":sessions" in out.stdout  # :help
    assert "unknown command :bogus (:help lists them)" in out.stderr
    requests = bodies(server, "openai")
    assert len(requests) == 2  # the one turn's two model steps; nothing for :bogus
    assert {r["model"] for r in requests} == {"other-model"}
    assert {str(r["reasoning"]) for r in requests} == {str({"effort": "low"})}
    assert "first line\nsecond line" in user_texts(requests[0])
    assert "[T1] Dispatched one session." in out.stdout
    assert "pilot default at T1 (1 checkpoints, 2 model steps)" in out.stdout
    assert "model: other-model (openai, reasoning low)" in out.stdout
    # other-model is in no table: no context window, no price.
    assert re.search(r"tokens: 1\.\dk in, \d+ out; cost \?\n", out.stdout)
    assert re.search(r"sessions: 1 \(1 (running|completed)\)", out.stdout)
    session_rows = [ln for ln in out.stdout.splitlines()
                    if re.match(r"[0-9a-f]{8}  . \w+ +codex ", ln)]
    assert len(session_rows) == 1 and "write hello" in session_rows[0]


def test_reasoning_effort_is_a_thinking_budget_for_anthropic(project: Path,
                                                             model_server) -> None:
    server = model_server({"messages": [{"text": "thought about it"}]})
    write_config(project, "anthropic", server)
    out = pilot(project, "--message", "hi", "--reasoning-effort", "high")
    assert out.returncode == 0, out.stderr
    [body] = bodies(server, "anthropic")
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 24_000}
    assert body["max_tokens"] == 4096 + 24_000  # the reply keeps its own max_output_tokens
    assert "[T1] thought about it" in out.stdout
