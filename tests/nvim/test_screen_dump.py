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
from tests.nvim.test_review import prepare
from tests.requirements import missing

COLUMNS, LINES = 110, 16  # as minimal_init.lua sets them
STAGE_TIMEOUT_S = 240.0  # generous; every wait ends on a condition, not a delay
SCREEN_FILE = artifacts.ROOT / "nvim-inline-status.txt"
REVIEW_LINES = 24  # room for a file and the quickfix list below it
REVIEW_FILE = artifacts.ROOT / "screenshots" / "nvim-review.txt"


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

    def start(self, program: Path, lines: int = LINES) -> None:
        done = self.cmd("new-session", "-d", "-s", "zwarm", "-x", str(COLUMNS), "-y", str(lines),
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


def find_tmux() -> str:
    tmux = shutil.which("tmux")
    if tmux is None:
        missing("tmux not installed (apt-get install tmux)")
    return tmux


def nvim_program(nvim: Nvim, script: str, results: Path, **extra_env: str) -> Path:
    """A shell script that starts Neovim in the project on `script`, for tmux to run."""
    env = {**nvim.env, **extra_env, "ZWARM_TEST_RESULTS": str(results)}
    env.pop("TERM")  # the pane's own terminal type, as tmux sets it
    program = nvim.tmp / "run-nvim.sh"
    program.write_text("#!/bin/sh\n"
                       + "".join(f"export {k}={shlex.quote(v)}\n" for k, v in env.items())
                       + f"cd {shlex.quote(str(nvim.project))}\n"
                       + f"exec {shlex.quote(nvim.nvim)} --clean -u {HERE / 'minimal_init.lua'} "
                       + f"-c {shlex.quote('luafile ' + str(HERE / 'scripts' / script))}\n")
    program.chmod(0o755)
    return program


def test_inline_status_screen_in_a_terminal(nvim: Nvim) -> None:
    tmux = find_tmux()
    release = nvim.tmp / "release"
    nvim.scenario(held_turn(release))
    signals = nvim.tmp / "signals"
    signals.mkdir()
    results = nvim.tmp / "results-screen.lua.json"
    program = nvim_program(nvim, "screen.lua", results, ZWARM_RELEASE=str(release),
                           ZWARM_SIGNALS=str(signals))

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


def screen_with(term: Terminal, needle: str) -> str | None:
    screen = term.screen()
    return screen if needle in screen else None


def test_review_screens_in_a_terminal(nvim: Nvim) -> None:
    """The review flow of test_review.py in a real terminal: the hunks in the quickfix
    list with their signs, the diff tab after accepting one and rejecting the other, the
    second session's conflict, and the blame."""
    tmux = find_tmux()
    prepare(nvim)
    signals = nvim.tmp / "signals"
    signals.mkdir()
    results = nvim.tmp / "results-review.lua.json"
    program = nvim_program(nvim, "review.lua", results, ZWARM_SIGNALS=str(signals),
                           ZWARM_SCREEN_LINES=str(REVIEW_LINES))
    # What each stage shows once tmux has read Neovim's drawing.
    stages = {
        "changes": ("the hunks in the quickfix list", "[pending]"),
        "diff": ("the diff tab", "/result/app.py"),
        "conflict": ("the conflict in the quickfix list", " overlap"),
        "blame": ("the blame", " t1"),
    }
    term = Terminal(tmux, nvim.tmp)
    screens: dict[str, str] = {}
    try:
        term.start(program, lines=REVIEW_LINES)
        deadline = time.monotonic() + STAGE_TIMEOUT_S
        for stage, (what, needle) in stages.items():
            wait_for(f"the {stage} stage", partial(read_signal, signals / f"{stage}.ready"),
                     results, deadline)
            screens[stage] = wait_for(what, partial(screen_with, term, needle), results,
                                      deadline)
            screens[stage + "-ansi"] = term.screen(colors=True)
            (signals / f"{stage}.captured").touch()
        wait_for("the editor to quit", results.exists, results, deadline)
    finally:
        term.stop()
    data = json.loads(results.read_text())
    assert not data.get("error"), data["error"]

    first, second = data["first"]["shortId"], data["second"]["shortId"]
    titles = {
        "changes": f":Zwarm changes {first}, then ]z: two hunks wait (┃)",
        "diff": "Accepted one (✓), :Zwarm diff, ]z and :Zwarm reject on the other (✗)",
        "conflict": f":Zwarm accept all {second}: its hunk collides with the accepted one (!)",
        "blame": ":Zwarm blame: the lines the first session wrote",
    }
    REVIEW_FILE.parent.mkdir(parents=True, exist_ok=True)
    REVIEW_FILE.write_text(
        f"Neovim {COLUMNS}x{REVIEW_LINES} in tmux: reviewing codex sessions {first} and "
        f"{second} (tests/nvim/test_screen_dump.py)\n\n"
        + "\n".join(f"-- {titles[stage]} --\n{screens[stage].rstrip()}\n" for stage in titles))
    REVIEW_FILE.with_suffix(".ansi").write_text(
        "\n".join(screens[stage + "-ansi"] for stage in titles))

    rows = {stage: screens[stage].splitlines() for stage in titles}
    assert all(len(r) <= REVIEW_LINES for r in rows.values())
    # The pending hunks' signs next to the lines, and the quickfix list below.
    assert any(row.startswith("┃     # TODO: handle None") for row in rows["changes"])
    assert sum(f"[pending] {first}" in row for row in rows["changes"]) == 2
    # Base and result side by side, the decisions signed on the result side.
    diff_rows = rows["diff"]
    assert any("def add(a, b):" in row and row.count("def add(a, b):") == 2 for row in diff_rows)
    assert any("✓" in row and "if a is None or b is None:" in row for row in diff_rows)
    assert any("✗" in row and "# checked" in row for row in diff_rows)
    assert any(f"{first}/base/app.py" in row and f"{first}/result/app.py" in row
               for row in diff_rows)
    assert any(row.startswith("!") and "if a is None or b is None:" in row
               for row in rows["conflict"])
    # Decided hunks have no Accept / Reject left.
    assert not any(f"{first}: +" in row for row in rows["conflict"])
    assert any("conflict" in row and "overlap" in row for row in rows["conflict"])
    # (On line 2 the blame follows the session's status, past the screen's edge.)
    assert any("return None" in row and f"codex {first} t1" in row for row in rows["blame"])
