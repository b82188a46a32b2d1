"""`zwarm-ls doctor` for the Ray executor, and `zwarm-ls delegate --executor`, in a
subprocess against the real local cluster (fake agent CLIs on the worker's PATH)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import Scenario
from tests.ray.conftest import Cluster, executor_toml, git_project
from tests.test_doctor import BIN_PATH, fake_cli

VENV_BIN = Path(sys.executable).parent


def cli(project: Path, *args: str, path: str | None = None,
        timeout: float = 240) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **({"PATH": path} if path else {})}
    return subprocess.run([sys.executable, "-m", "zwarm_ls.cli", *args, "--root", str(project)],
                          capture_output=True, text=True, env=env, timeout=timeout, check=False)


def by_name(proc: subprocess.CompletedProcess[str]) -> dict[str, dict]:
    return {c["name"]: c for c in json.loads(proc.stdout)["checks"]}


def test_doctor_checks_the_cluster_and_the_clis_on_its_workers(
        cluster: Cluster, project: Path, tmp_path: Path) -> None:
    workers_bin = tmp_path / "worker-bin"
    fake_cli(workers_bin, "codex", "codex-cli 0.169.0")
    # This codex also says where it was asked for its version (a CLI that writes files
    # there, as the fake agent does, must not litter the node's working directory).
    asked_in = tmp_path / "asked-in"
    codex = workers_bin / "codex"
    codex.write_text(codex.read_text().replace("#!/bin/sh\n", f"#!/bin/sh\npwd > {asked_in}\n"))
    fake_cli(workers_bin, "claude", "2.1.197 (Claude Code)")
    # Kind "ray" from the (trusted) project; the workers' PATH has the CLIs.
    (project / ".zwarm" / "config.toml").write_text(executor_toml(cluster, workers_bin,
                                                                  kind="ray"))
    local_path = f"{workers_bin}:{VENV_BIN}:{BIN_PATH}"
    proc = cli(project, "doctor", "--json", path=local_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    found = by_name(proc)
    assert found["ray cluster"]["status"] == "ok"
    assert cluster.url in found["ray cluster"]["message"] and "Ray 2." in \
        found["ray cluster"]["message"]
    assert found["worker codex"]["status"] == "ok"
    assert "codex-cli 0.169.0" in found["worker codex"]["message"]
    assert "2.1.197 (Claude Code)" in found["worker claude"]["message"]
    assert "worker git" not in found and "worker pydantic" not in found  # both there
    scratch = Path(asked_in.read_text().strip())
    assert scratch != Path.cwd() and not scratch.exists()  # a scratch dir, removed after

    # Workers whose PATH lacks the CLIs: codex is the default adapter, so an error.
    bare = executor_toml(cluster, tmp_path / "nothing-here", kind="ray")
    (project / ".zwarm" / "config.toml").write_text(bare)
    proc = cli(project, "doctor", "--json", path=local_path)
    assert proc.returncode == 1, proc.stdout
    found = by_name(proc)
    assert found["ray cluster"]["status"] == "ok"
    assert found["worker codex"]["status"] == "error"
    assert "not on the worker's PATH" in found["worker codex"]["message"]
    assert found["worker claude"]["status"] == "warn"
    assert "runtime_env" in found["worker codex"]["hint"]

    # No node has the resource asked for: said within the timeout, not a hang.
    (project / ".zwarm" / "config.toml").write_text(bare.replace(
        "resources = { agent = 1 }", "resources = { gpu_box = 1 }"))
    proc = cli(project, "doctor", "--json", "--timeout", "5", path=local_path)
    assert proc.returncode == 1
    assert "no node took a probe job" in by_name(proc)["ray workers"]["message"]


def test_delegate_executor_flag_picks_where_the_turn_runs(
        cluster: Cluster, project: Path, fake_clis: Path, scenario: Scenario) -> None:
    git_project(project)
    script = scenario([
        {"emit": {"type": "thread.started", "thread_id": "{thread_id}"}},
        {"emit": {"type": "item.completed", "item": {"id": "m", "type": "agent_message",
                                                     "text": "done: {prompt}"}}},
        {"emit": {"type": "turn.completed", "usage": {"input_tokens": 1, "output_tokens": 1}}},
    ])
    fake_bin = fake_clis.parent / "bin"
    # The project's default is local; the flag sends this session to the cluster.
    (project / ".zwarm" / "config.toml").write_text(
        executor_toml(cluster, fake_bin, script, kind="local"))
    remote = cli(project, "delegate", "on the cluster", "--executor", "ray", "--wait",
                 "--json")
    assert remote.returncode == 0, remote.stdout + remote.stderr
    assert json.loads(remote.stdout)["response"] == "done: on the cluster"
    # ... and with the default "ray", --executor local keeps a session here.
    (project / ".zwarm" / "config.toml").write_text(
        executor_toml(cluster, fake_bin, script, kind="ray"))
    local = cli(project, "delegate", "right here", "--executor", "local", "--wait", "--json")
    assert local.returncode == 0, local.stdout + local.stderr
    listed = json.loads(cli(project, "sessions", "--json").stdout)["sessions"]
    where = {s["task"]: (s["executor"], s.get("location")) for s in listed}
    assert where["on the cluster"][0] == "ray" and "job zwarm-" in where["on the cluster"][1]
    assert where["right here"] == ("local", None)
    bad = cli(project, "delegate", "x", "--executor", "moon")
    assert bad.returncode == 2 and "invalid choice: 'moon'" in bad.stderr
