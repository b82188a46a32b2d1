"""`zwarm-ls pilot` in a terminal: colon commands answered locally (unknown ones never
reach the model), multiline messages, :status and :sessions, --model and
--reasoning-effort, against the scripted model server and the fake agent CLIs; and the
same REPL on a real pseudo-terminal (:history, :goto, a branch from an earlier turn)."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
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


class Terminal:
    """The pilot on a real pseudo-terminal: what a person typing sees."""

    def __init__(self, project: Path, *args: str):
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "zwarm_ls.cli", "pilot", *args, "--root", str(project)],
            stdin=slave, stdout=slave, stderr=slave, close_fds=True, start_new_session=True)
        os.close(slave)
        self.seen = ""

    def expect(self, text: str, timeout: float = 60.0) -> None:
        """Wait for `text` in the output after what the last expect consumed."""
        deadline = time.monotonic() + timeout
        while text not in self.seen:
            left = deadline - time.monotonic()
            assert left > 0 and self.proc.poll() is None, f"no {text!r} in {self.seen!r}"
            ready, _, _ = select.select([self.master], [], [], min(left, 0.5))
            if ready:
                self.seen += os.read(self.master, 65536).decode(errors="replace")
        self.seen = self.seen[self.seen.index(text) + len(text):]

    def send(self, line: str) -> None:
        os.write(self.master, line.encode() + b"\n")

    def close(self) -> int:
        try:
            return self.proc.wait(timeout=60)
        finally:
            os.close(self.master)


def test_the_pilot_in_a_terminal_goes_back_and_branches(project: Path, model_server) -> None:
    server = model_server({"responses": [{"text": "first answer"}, {"text": "second answer"},
                                         {"text": "branched answer"}]})
    write_config(project, "openai", server)
    term = Terminal(project)
    try:
        term.expect("pilot default at root; :help for the commands")
        term.expect("> ")
        term.send("one")
        term.expect("[T1] first answer")
        term.send("two")
        term.expect("[T2] second answer")
        term.send(":history")
        term.expect(" [T1] steps=1 | one")
        term.expect("*[T2] steps=2 | two")
        term.send(":goto T1")
        term.expect("now at T1")
        term.send(":nope")
        term.expect("unknown command :nope (:help lists them)")
        term.send('"""')
        term.expect("... ")
        term.send(":status is not a command here")
        term.send('"""')
        term.expect("[T2] branched answer")
        term.send(":status")
        term.expect("pilot default at T2 (2 checkpoints, 2 model steps)")
        term.send(":quit")
        assert term.close() == 0
    finally:
        if term.proc.poll() is None:
            term.proc.kill()
            term.close()
    sent = bodies(server, "openai")
    assert len(sent) == 3  # nothing for :history, :goto, :nope or :status
    branched = user_texts(sent[2])
    assert "one" in branched and "two" not in branched
    assert ":status is not a command here" in branched
    assert any("went back to checkpoint T1" in t for t in branched)
