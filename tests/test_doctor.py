"""`zwarm-ls doctor` in a subprocess: real git, fake agent CLIs that print a version, the
project's real config and trust files. The Ray checks against a real cluster are in
tests/ray/test_ray_doctor.py."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

BIN_PATH = "/usr/local/bin:/usr/bin:/bin"


def fake_cli(folder: Path, name: str, said: str) -> Path:
    """An executable that prints `said` for --version, and fails on anything else (the
    doctor must never start a turn)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f'#!/bin/sh\n[ "$1" = --version ] && {{ echo "{said}"; exit 0; }}\n'
                    "exit 3\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def agents(tmp_path: Path) -> Path:
    folder = tmp_path / "agents"
    fake_cli(folder, "codex", "codex-cli 0.169.0")
    fake_cli(folder, "claude", "2.1.197 (Claude Code)")
    return folder


def doctor(project: Path, *args: str, path: str,
           env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    # The user config dir the autouse fixture set (it trusts the test's folder) is kept.
    full = {**os.environ, "PATH": path, **(env or {})}
    return subprocess.run([sys.executable, "-m", "zwarm_ls.cli", "doctor", *args,
                           "--root", str(project)], capture_output=True, text=True,
                          env=full, timeout=120, check=False)


def checks(proc: subprocess.CompletedProcess[str]) -> dict[str, dict]:
    report = json.loads(proc.stdout)
    return {c["name"]: c for c in report["checks"]}


def test_a_healthy_machine_is_all_ok(project: Path, agents: Path) -> None:
    proc = doctor(project, "--json", path=f"{agents}:{BIN_PATH}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    found = checks(proc)
    assert list(found) == ["git", "codex", "claude", "config", "trust"]  # no Ray: local
    assert {c["status"] for c in found.values()} == {"ok"}
    real_git = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout
    assert found["git"]["message"].startswith(real_git.strip())
    assert "codex-cli 0.169.0" in found["codex"]["message"]
    assert str(agents / "codex") in found["codex"]["message"]
    assert "2.1.197 (Claude Code)" in found["claude"]["message"]
    assert "is trusted" in found["trust"]["message"]  # the test's folder is trusted
    assert json.loads(proc.stdout)["ok"] is True


def test_text_output_marks_each_check_and_gives_hints(project: Path, tmp_path: Path,
                                                      agents: Path) -> None:
    (agents / "claude").unlink()
    proc = doctor(project, path=f"{agents}:{BIN_PATH}")
    assert proc.returncode == 0, proc.stderr  # only a warning: codex is the default
    lines = proc.stdout.splitlines()
    assert any(line.startswith("ok") and "codex-cli 0.169.0" in line for line in lines)
    [claude] = [i for i, line in enumerate(lines) if line.startswith("WARN") and "claude" in line]
    assert "`claude` not found on PATH" in lines[claude]
    assert "hint: install it, or set [claude] binary" in lines[claude + 1]
    assert lines[-1] == "0 error(s), 1 warning(s)"


def test_the_default_agent_missing_is_an_error(project: Path, agents: Path) -> None:
    (agents / "codex").unlink()
    proc = doctor(project, "--json", path=f"{agents}:{BIN_PATH}")
    assert proc.returncode == 1
    found = checks(proc)
    assert found["codex"]["status"] == "error" and found["claude"]["status"] == "ok"
    assert json.loads(proc.stdout)["ok"] is False
    # With claude as the default adapter, codex missing is only a warning.
    (project / ".zwarm" / "config.toml").write_text('[daemon]\ndefault_adapter = "claude"\n')
    found = checks(doctor(project, "--json", path=f"{agents}:{BIN_PATH}"))
    assert found["codex"]["status"] == "warn"


def test_a_configured_binary_is_checked_not_the_one_on_path(project: Path, tmp_path: Path,
                                                            agents: Path) -> None:
    pinned = fake_cli(tmp_path / "pinned", "my-codex", "codex-cli 0.170.1")
    (project / ".zwarm" / "codex.toml").write_text(f'binary = "{pinned}"\n')
    found = checks(doctor(project, "--json", path=f"{agents}:{BIN_PATH}"))
    assert "codex-cli 0.170.1" in found["codex"]["message"], found["codex"]


def test_git_older_than_2_32_is_an_error(project: Path, tmp_path: Path,
                                         agents: Path) -> None:
    old = tmp_path / "old-git"
    fake_cli(old, "git", "git version 2.25.1")
    proc = doctor(project, "--json", path=f"{old}:{agents}:{BIN_PATH}")
    assert proc.returncode == 1
    git = checks(proc)["git"]
    assert git["status"] == "error" and "2.25.1" in git["message"]
    assert "2.32" in git["message"] and "change sets" in git["hint"]
    no_git = doctor(project, "--json", path=str(agents))  # no /usr/bin: no git at all
    assert checks(no_git)["git"]["status"] == "error"
    assert "not found" in checks(no_git)["git"]["message"]


def test_config_warnings_are_listed(project: Path, agents: Path) -> None:
    (project / ".zwarm" / "config.toml").write_text("[nonsense]\nx = 1\n[daemon]\nshow = 3\n")
    proc = doctor(project, "--json", path=f"{agents}:{BIN_PATH}")
    assert proc.returncode == 0  # warnings are not errors
    config = checks(proc)["config"]
    assert config["status"] == "warn"
    assert "unknown section 'nonsense'" in config["message"], config
    assert "configs show" in config["hint"]


def test_an_untrusted_folder_that_asks_for_more_is_a_warning(project: Path, tmp_path: Path,
                                                             agents: Path) -> None:
    (project / ".zwarm" / "config.toml").write_text(
        '[executor]\nkind = "ray"\naddress = "http://127.0.0.1:9"\n')
    elsewhere = {"ZWARM_LS_CONFIG_DIR": str(tmp_path / "nobody-trusts")}
    proc = doctor(project, "--json", path=f"{agents}:{BIN_PATH}", env=elsewhere)
    found = checks(proc)
    assert found["trust"]["status"] == "warn", found["trust"]
    assert "not trusted" in found["trust"]["message"]
    assert found["trust"]["hint"] == f"if you trust this repository: zwarm-ls trust {project}"
    assert "ray cluster" not in found  # the ignored kind = "ray" does not count
    assert proc.returncode == 0


def test_an_unreachable_cluster_is_an_error(project: Path, agents: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nobody listens there
    proc = doctor(project, "--json", "--address", f"http://127.0.0.1:{port}",
                  path=f"{agents}:{BIN_PATH}")
    assert proc.returncode == 1
    cluster = checks(proc)["ray cluster"]
    assert cluster["status"] == "error" and "cannot be reached" in cluster["message"]
    assert "--address" in cluster["hint"]
    text = doctor(project, "--executor", "ray", "--address", f"127.0.0.1:{port}",
                  path=f"{agents}:{BIN_PATH}")
    assert text.returncode == 1 and "ERROR  ray cluster" in text.stdout
