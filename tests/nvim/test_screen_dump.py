"""The inline status as a terminal shows it: Neovim runs in tmux, and the test captures
the rendered screen (`tmux capture-pane`) while the session runs and once it completed.
The screens are saved to artifacts/nvim-inline-status.txt."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import time
from functools import partial
from pathlib import Path

import pytest

from tests import artifacts
from tests.nvim.conftest import HERE, Nvim
from tests.nvim.test_delegate_inline import held_turn
from tests.requirements import missing

COLUMNS, LINES = 110, 16  # as minimal_init.lua sets them
STAGE_TIMEOUT_S = 240.0  # generous; every wait ends on a condition, not a delay
SCREEN_FILE = artifacts.ROOT / "nvim-inline-status.txt"


class Terminal:
    """One tmux server on its own socket, running one Neovim."""

    def __init__(self, tmux: str, tmp: Path):
        self.tmux = tmux
        self.socket = tmp / "tmux.sock"
        self.conf = tmp / "tmux.conf"
        self.conf.write_text("set -g status off\nset -g remain-on-exit off\n")

    def cmd(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([self.tmux, "-S", str(self.socket), "-f", str(self.conf), *args],
                              capture_output=True, text=True, timeout=60)

    def start(self, program: Path) -> None:
        done = self.cmd("new-session", "-d", "-s", "zwarm", "-x", str(COLUMNS), "-y", str(LINES),
                        str(program))
        assert done.returncode == 0, done.stderr

    def screen(self, colors: bool = False) -> str:
        done = self.cmd("capture-pane", "-p", *(["-e"] if colors else []), "-t", "zwarm")
        return done.stdout if done.returncode == 0 else ""

    def stop(self) -> None:
        self.cmd("kill-server")


def wait_for(what: str, cond, results: Path, deadline: float):
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        if results.exists():  # the editor finished early: it says why
            data = json.loads(results.read_text())
            pytest.fail(f"the editor stopped while waiting for {what}: {data.get('error')}")
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def read_signal(path: Path) -> str | None:
    return path.read_text() if path.exists() else None


def screen_showing(term: Terminal, short_id: str, status: str) -> str | None:
    """The screen, once a row shows the session with `status`; else None."""
    screen = term.screen()
    return screen if any(short_id in row and status in row for row in screen.splitlines()) \
        else None


def test_inline_status_screen_in_a_terminal(nvim: Nvim) -> None:
    tmux = shutil.which("tmux")
    if tmux is None:
        missing("tmux not installed (apt-get install tmux)")
    release = nvim.tmp / "release"
    nvim.scenario(held_turn(release))
    signals = nvim.tmp / "signals"
    signals.mkdir()
    results = nvim.tmp / "results-screen.lua.json"
    env = {**nvim.env, "ZWARM_RELEASE": str(release), "ZWARM_SIGNALS": str(signals),
           "ZWARM_TEST_RESULTS": str(results)}
    env.pop("TERM")  # the pane's own terminal type, as tmux sets it
    program = nvim.tmp / "run-nvim.sh"
    program.write_text("#!/bin/sh\n"
                       + "".join(f"export {k}={shlex.quote(v)}\n" for k, v in env.items())
                       + f"cd {shlex.quote(str(nvim.project))}\n"
                       + f"exec {shlex.quote(nvim.nvim)} --clean -u {HERE / 'minimal_init.lua'} "
                       + f"-c {shlex.quote('luafile ' + str(HERE / 'scripts' / 'screen.lua'))}\n")
    program.chmod(0o755)

    term = Terminal(tmux, nvim.tmp)
    screens: dict[str, str] = {}
    try:
        term.start(program)
        deadline = time.monotonic() + STAGE_TIMEOUT_S
        for stage in ("running", "completed"):
            ready = signals / f"{stage}.ready"
            short = wait_for(f"the {stage} stage", partial(read_signal, ready), results, deadline)
            # The terminal shows what Neovim drew once tmux has read it: wait for the text.
            screens[stage] = wait_for(f"the {stage} status on the screen",
                                      partial(screen_showing, term, short, stage),
                                      results, deadline)
            screens[stage + "-ansi"] = term.screen(colors=True)
            (signals / f"{stage}.captured").touch()
        wait_for("the editor to quit", results.exists, results, deadline)
    finally:
        term.stop()
    data = json.loads(results.read_text())
    assert not data.get("error"), data["error"]

    SCREEN_FILE.parent.mkdir(parents=True, exist_ok=True)
    SCREEN_FILE.write_text(
        f"Neovim {COLUMNS}x{LINES} in tmux, :'<,'>Zwarm delegate on lines 2-3 of app.py\n\n"
        f"-- running --\n{screens['running'].rstrip()}\n\n"
        f"-- completed --\n{screens['completed'].rstrip()}\n")
    SCREEN_FILE.with_suffix(".ansi").write_text(
        screens["running-ansi"] + "\n" + screens["completed-ansi"])

    short = data["delegated"]["shortId"]
    running = screens["running"].splitlines()
    completed = screens["completed"].splitlines()
    assert len(running) <= LINES and all(len(row) <= COLUMNS for row in running)
    # Running: the status sits at the end of the anchor line (line 2 of the file).
    assert running[1].startswith("    # TODO: handle None")
    assert f"codex {short} running" in running[1] and "1 step ·" in running[1]
    # Completed: the agent's new text, a sign on each line it wrote (not on the line it
    # kept), the final status.
    assert any(f"codex {short} completed" in row and "add() now returns None" in row
               for row in completed)
    assert "def add(a, b):" in completed[0] and not completed[0].startswith("▎")
    assert completed[1].startswith("▎     if a is None or b is None:")
    assert completed[2].startswith("▎         return None")
    assert sum(row.startswith("▎ ") for row in completed) == 2
