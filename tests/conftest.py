"""Shared fixtures: a throwaway project, fake `codex`/`claude` executables on PATH, and a
started session service over the project's store."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import stat
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from zwarm_ls import trust
from zwarm_ls.config import load_config
from zwarm_ls.service import SessionService

FAKES = Path(__file__).parent / "fakes"


def write_fake_clis(bin_dir: Path) -> None:
    bin_dir.mkdir(parents=True, exist_ok=True)
    for flavor in ("codex", "claude"):
        path = bin_dir / flavor
        path.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKES / "fake_agent.py"}" '
                        f'{flavor} "$@"\n')
        path.chmod(path.stat().st_mode | stat.S_IEXEC)


@pytest.fixture(autouse=True)
def user_config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test has its own user config dir (never the real ~/.config/zwarm-ls), in which
    the test's own folder is trusted: tests configure fake and pinned CLIs, loopback model
    servers and the like in their projects. Trust tests use a dir of their own."""
    folder = tmp_path / "zwarm-user-config"
    monkeypatch.setenv(trust.ENV_DIR, str(folder))
    trust.trust(tmp_path)
    return folder


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / ".zwarm").mkdir(parents=True)
    return root


@pytest.fixture
def fake_clis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Fake CLIs first on PATH; returns the invocation log they append to."""
    bin_dir = tmp_path / "bin"
    write_fake_clis(bin_dir)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    log = tmp_path / "agent-invocations.jsonl"
    monkeypatch.setenv("FAKE_AGENT_LOG", str(log))
    yield log
    stop_leftover_agents(log)


def stop_leftover_agents(log: Path) -> None:
    """Kill fake agents of this test still running (a test that failed while one was held
    open must not leave it behind): found by the log path in their environment."""
    marker = f"FAKE_AGENT_LOG={log}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if marker in environ.split(b"\0"):
            with contextlib.suppress(OSError):
                os.kill(int(entry.name), signal.SIGKILL)


class Scenario:
    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
        self.path = tmp_path / "scenario.json"
        self.monkeypatch = monkeypatch

    def __call__(self, *turns: list[dict]) -> Path:
        self.path.write_text(json.dumps({"turns": list(turns)}))
        self.monkeypatch.setenv("FAKE_AGENT_SCENARIO", str(self.path))
        return self.path


@pytest.fixture
def scenario(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Scenario:
    return Scenario(tmp_path, monkeypatch)


@pytest.fixture
async def service(project: Path, fake_clis: Path) -> AsyncIterator[SessionService]:
    config, _ = load_config(project)
    svc = SessionService(config)
    await svc.start()
    yield svc
    await svc.stop()
