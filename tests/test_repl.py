"""`zwarm-ls interactive` driven through a real pseudo-terminal, with the fake agent:
spawn, completion, ls, live watch, continue, kill all, !cmd, and leaving while a session
still runs."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]|\r")
WAIT_S = 60.0  # a bound for a broken test, never a measured duration


def codex_turn(*middle: dict) -> list[dict]:
    return [{"emit": {"type": "thread.started", "thread_id": "{thread_id}"}},
            {"emit": {"type": "turn.started"}}, *middle,
            {"emit": {"type": "item.completed", "item": {"id": "m", "type": "agent_message",
                                                         "text": "done: {prompt}"}}},
            {"emit": {"type": "turn.completed", "usage": {
                "input_tokens": 1000, "cached_input_tokens": 0, "output_tokens": 50}}}]


class Terminal:
    """The REPL on the child side of a pty; what it draws is read back without escapes."""

    def __init__(self, project: Path):
        pid, fd = pty.fork()
        if pid == 0:  # the child: become the REPL
            os.environ.update({"TERM": "xterm-256color", "PROMPT_TOOLKIT_NO_CPR": "1"})
            os.execv(sys.executable, [sys.executable, "-m", "zwarm_ls.cli", "interactive",
                                      "--root", str(project)])
        self.pid, self.fd = pid, fd
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 160, 0, 0))
        self.seen = ""  # everything drawn so far, escapes removed
        self.mark = 0  # expect() searches from here

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return False
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # the child has exited
            return False
        self.seen += ANSI.sub("", data.decode("utf-8", errors="replace"))
        return bool(data)

    def expect(self, pattern: str) -> re.Match[str]:
        deadline = time.monotonic() + WAIT_S
        regex = re.compile(pattern)
        while True:
            match = regex.search(self.seen, self.mark)
            if match:
                self.mark = match.end()
                return match
            if time.monotonic() > deadline:
                raise AssertionError(f"{pattern!r} never appeared; the screen had:\n"
                                     f"{self.seen[self.mark:][-3000:]}")
            self._read(0.2)

    def send(self, text: str) -> None:
        os.write(self.fd, text.encode())

    def line(self, text: str) -> None:
        self.expect(r"zwarm>")
        self.send(text + "\r")

    def exit_code(self) -> int:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            self._read(0.1)
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return os.waitstatus_to_exitcode(status)
        raise AssertionError("the REPL did not exit")

    def close(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(self.fd)


def wait_for_invocations(log: Path, count: int) -> None:
    """Until the fake agent has started `count` times (it logs once it has its prompt)."""
    deadline = time.monotonic() + WAIT_S
    while not log.is_file() or len(log.read_text().splitlines()) < count:
        assert time.monotonic() < deadline, "the agent never started"
        time.sleep(0.05)


def cli(project: Path, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-m", "zwarm_ls.cli", *args, "--root", str(project),
                          "--json"], capture_output=True, text=True, check=True, timeout=60)
    return json.loads(out.stdout)


def test_the_repl_drives_sessions(project: Path, fake_clis: Path, scenario,
                                  tmp_path: Path) -> None:
    gate, never, later = tmp_path / "gate", tmp_path / "never", tmp_path / "later"
    scenario(codex_turn(), codex_turn({"wait_for_file": str(gate)}), codex_turn(),
             codex_turn({"wait_for_file": str(never)}),
             codex_turn({"wait_for_file": str(later)}))
    t = Terminal(project)  # after the scenario: the REPL's agents inherit its environment
    try:
        drive(t, project, fake_clis, gate, later)
    finally:
        t.close()


def drive(t: Terminal, project: Path, log: Path, gate: Path, later: Path) -> None:
    t.expect("type help for the commands")

    # Tab completes a command; --model detection and aliases reach the CLI.
    t.expect("zwarm>")
    t.send("spa\t")
    t.expect("spawn")
    t.send('"write hello" --model mini\r')
    first = t.expect(r"session ([0-9a-f]{8}) started \(codex/gpt-5\.1-codex-mini").group(1)
    t.expect(rf"✓ session {first} completed")

    t.line("ls")
    t.expect(rf"{first}\s+✓ completed\s+codex\s+t1\s+\d+\s+1\.1k")

    # A live watch: the held session shows as running, then finishes while watched.
    t.line('spawn "held task"')
    held = t.expect(r"session ([0-9a-f]{8}) started").group(1)
    t.line("watch")
    t.expect(rf"{held}\s+▶ running")
    t.expect(r"\(q to stop watching\)")
    gate.write_text("go")
    t.expect(rf"{held}\s+✓ completed")

    # Completion of a session id, then a second turn.
    t.expect("zwarm>")
    t.send(f"c {first[:5]}\t")
    t.expect(f"c {first}")
    t.send('"and more"\r')
    t.expect(rf"session {first} turn 2 started")
    t.expect(rf"✓ session {first} completed")

    # kill all stops what runs.
    t.line('spawn "to be killed"')
    doomed = t.expect(r"session ([0-9a-f]{8}) started").group(1)
    wait_for_invocations(log, 4)
    t.line("kill all")
    t.expect(rf"{doomed} killed")
    t.expect(r"killed 1 running session\(s\)")

    t.line("!echo from-the-shell && exit 3")
    t.expect(r"from-the-shell\s+\(exit 3\)")
    t.line("models")
    t.expect(r"claude\s+sonnet\*")
    t.line("frobnicate")
    t.expect(r"unknown command 'frobnicate'")
    t.line('spawn "x" --search')
    t.expect(r"unknown option --search")

    # Leaving while a session runs: it keeps running without the REPL.
    t.line('spawn "outlives the repl"')
    last = t.expect(r"session ([0-9a-f]{8}) started").group(1)
    t.line("quit")
    t.expect("1 session\\(s\\) still running")
    assert t.exit_code() == 0
    assert cli(project, "show", last)["status"] == "running"
    later.write_text("go")
    cli(project, "wait", last, "--timeout", "60")
    statuses = {s["shortId"]: s["status"] for s in cli(project, "ls")["sessions"]}
    assert statuses == {first: "completed", held: "completed", doomed: "killed",
                        last: "completed"}
