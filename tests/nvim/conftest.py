"""Headless Neovim driving the zwarm.nvim plugin against the real daemon.

Each test runs one Lua script (tests/nvim/scripts/) in `nvim --headless --clean` with
the plugin on the runtimepath. The script drives the editor, waits on buffer contents
and extmarks with `vim.wait`, and writes what it saw as JSON for the test to assert on.
The daemon (`zwarm-ls serve`) is the real one; the agent CLIs are the fakes from
tests/fakes, first on PATH.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests import artifacts
from tests.conftest import write_fake_clis
from tests.requirements import missing

HERE = Path(__file__).parent
REPO = HERE.parent.parent
PLUGIN = REPO / "editor-clients" / "nvim"
ARTIFACTS = artifacts.ROOT / "nvim"
VENV_BIN = Path(sys.executable).parent
RUN_TIMEOUT_S = 300  # a hard stop for a hung editor; the scripts' own waits are shorter


def find_nvim() -> str | None:
    search = os.pathsep.join([str(VENV_BIN), os.environ.get("PATH", "")])
    return shutil.which("nvim", path=search)


def find_daemon() -> str | None:
    search = os.pathsep.join([str(VENV_BIN), os.environ.get("PATH", "")])
    return shutil.which("zwarm-ls", path=search)


pytestmark = pytest.mark.nvim


@dataclass
class Result:
    data: dict[str, Any]
    returncode: int
    stderr: str

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def notifications(self) -> list[str]:
        return [n["msg"] for n in self.data.get("notifications", [])]


@dataclass
class Nvim:
    """Runs Lua test scripts in a fresh headless Neovim with a controlled environment."""

    nvim: str
    project: Path
    tmp: Path
    env: dict[str, str] = field(default_factory=dict)

    def scenario(self, *turns: list[dict[str, Any]]) -> Path:
        path = self.tmp / "scenario.json"
        path.write_text(json.dumps({"turns": list(turns)}))
        self.env["FAKE_AGENT_SCENARIO"] = str(path)
        return path

    def run(self, script: str, **extra_env: str) -> Result:
        results = self.tmp / f"results-{script}.json"
        results.unlink(missing_ok=True)
        env = {**self.env, **extra_env, "ZWARM_TEST_RESULTS": str(results)}
        proc = subprocess.run(
            [self.nvim, "--headless", "--clean", "-u", str(HERE / "minimal_init.lua"),
             "-c", f"luafile {HERE / 'scripts' / script}"],
            cwd=self.project, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
        )
        if not results.exists():
            pytest.fail(f"{script} wrote no results (rc {proc.returncode})\n"
                        f"stdout: {proc.stdout[-2000:]}\nstderr: {proc.stderr[-4000:]}")
        data = json.loads(results.read_text())
        if data.get("error"):
            pytest.fail(f"{script} failed: {data['error']}\nnotifications: "
                        f"{data.get('notifications')}\nmessages: {data.get('messages')}\n"
                        f"stderr: {proc.stderr[-4000:]}")
        return Result(data=data, returncode=proc.returncode, stderr=proc.stderr)

    def invocations(self) -> list[dict[str, Any]]:
        log = Path(self.env["FAKE_AGENT_LOG"])
        if not log.exists():
            return []
        return [json.loads(line) for line in log.read_text().splitlines()]


@pytest.fixture
def nvim(tmp_path: Path) -> Iterator[Nvim]:
    binary = find_nvim()
    daemon = find_daemon()
    if binary is None or daemon is None:
        missing("nvim or zwarm-ls not found (pip install -e '.[dev]')")
    project = tmp_path / "project"
    (project / ".zwarm").mkdir(parents=True)
    (project / "app.py").write_text(
        "def add(a, b):\n    # TODO: handle None\n    return a + b\n\n\nprint(add(1, 2))\n"
    )
    bin_dir = tmp_path / "bin"
    write_fake_clis(bin_dir)
    home = tmp_path / "home"
    env = {
        # The fake CLIs first; the venv for `zwarm-ls` and its Python; then the system.
        "PATH": os.pathsep.join([str(bin_dir), str(VENV_BIN), "/usr/local/bin", "/usr/bin",
                                 "/bin"]),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "XDG_STATE_HOME": str(home / ".local/state"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "TERM": "xterm-256color",
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "ZWARM_NVIM_PLUGIN": str(PLUGIN),
        "ZWARM_NVIM_TESTS": str(HERE),
        "ZWARM_LS": daemon,
        "ZWARM_PROJECT": str(project),
        "ZWARM_TMP": str(tmp_path),
        "FAKE_AGENT_LOG": str(tmp_path / "agent-invocations.jsonl"),
    }
    yield Nvim(nvim=binary, project=project, tmp=tmp_path, env=env)


def save_artifact(name: str, text: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    path.write_text(text)
    return path
