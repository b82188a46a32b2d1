"""`init` and `reset` on a real pseudo-terminal: they ask there (and only there)."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

WAIT_S = 60.0  # a bound for a broken test, never a measured duration


class Dialog:
    """One CLI command on the child side of a pty, answered line by line."""

    def __init__(self, project: Path, *args: str):
        pid, fd = pty.fork()
        if pid == 0:
            os.execv(sys.executable, [sys.executable, "-m", "zwarm_ls.cli", *args,
                                      "--root", str(project)])
        self.pid, self.fd, self.seen = pid, fd, ""

    def expect(self, text: str) -> None:
        deadline = time.monotonic() + WAIT_S
        while text not in self.seen:
            assert time.monotonic() < deadline, f"{text!r} never appeared:\n{self.seen}"
            if select.select([self.fd], [], [], 0.2)[0]:
                try:
                    self.seen += os.read(self.fd, 4096).decode(errors="replace")
                except OSError:  # the command has exited
                    time.sleep(0.05)
        self.seen = self.seen[self.seen.index(text) + len(text):]

    def answer(self, question: str, reply: str) -> None:
        self.expect(question)
        os.write(self.fd, reply.encode() + b"\r")

    def finish(self) -> tuple[int, str]:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            if select.select([self.fd], [], [], 0.1)[0]:
                with contextlib.suppress(OSError):
                    self.seen += os.read(self.fd, 4096).decode(errors="replace")
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status), self.seen
        raise AssertionError(f"the command did not end:\n{self.seen}")


def cli(project: Path, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-m", "zwarm_ls.cli", *args, "--root", str(project),
                          "--json"], capture_output=True, text=True, check=True, timeout=60)
    return json.loads(out.stdout)


def test_init_asks_on_a_terminal(project: Path) -> None:
    dialog = Dialog(project, "init")
    dialog.answer("Default agent (codex or claude) [codex]:", "claude")
    dialog.answer("Codex model [gpt-5.1-codex-mini]:", "codex-max")  # an alias
    dialog.answer("Claude model [sonnet]:", "")  # Enter keeps the default
    code, out = dialog.finish()
    assert code == 0 and "initialized" in out
    zdir = project / ".zwarm"
    assert 'default_adapter = "claude"' in (zdir / "config.toml").read_text()
    assert 'model = "gpt-5.1-codex-max"' in (zdir / "codex.toml").read_text()
    assert 'model = "sonnet"' in (zdir / "claude.toml").read_text()


def test_reset_asks_for_confirmation_on_a_terminal(project: Path, fake_clis: Path) -> None:
    cli(project, "init", "--yes")
    session = cli(project, "delegate", "write hello", "--wait")["sessionId"]
    no = Dialog(project, "reset")
    no.answer("delete 1 session(s)", "n")
    code, out = no.finish()
    assert code == 1 and "nothing changed" in out
    assert [s["id"] for s in cli(project, "ls")["sessions"]] == [session]
    yes = Dialog(project, "reset")
    yes.answer("Continue? [y/N]:", "y")
    code, out = yes.finish()
    assert code == 0 and "reset" in out
    assert cli(project, "ls")["counts"]["total"] == 0
    assert (project / ".zwarm" / "codex.toml").is_file()  # without --all, config stays
