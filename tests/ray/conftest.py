"""One real local Ray cluster per test session: a head and one worker node, on free ports,
in a temp dir of its own, stopped afterwards (only its own processes: a developer's
cluster survives). If Ray cannot start, every test that needs it fails: never a skip."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

# The daemon-over-stdio fixtures, for the tests that drive `zwarm-ls serve`, and the
# real-CLI harness (scripted model server, project configs) for the real codex test.
from tests.lsp.conftest import start_client  # noqa: F401
from tests.real_agents.conftest import model_server, real_project, start_daemon  # noqa: F401

VENV_BIN = Path(sys.executable).parent
RAY = VENV_BIN / "ray"
START_TIMEOUT_S = 180


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "ray: needs a local Ray cluster (started by tests/ray/conftest.py)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/ray/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.ray)


def free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def processes_mentioning(marker: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            if marker.encode() in (entry / "cmdline").read_bytes():
                pids.append(int(entry.name))
    return pids


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                stat = (entry / "stat").read_text()
                parent = int(stat[stat.rfind(")") + 2:].split()[1])
                children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += children.get(current, [])
    return found


def kill_all(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


@dataclass
class Cluster:
    temp_dir: Path
    gcs_port: int
    dashboard_port: int
    head_ports: list[int]
    worker_ports: list[int]
    env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.dashboard_port}"

    def ray(self, *args: str, timeout: float = START_TIMEOUT_S) -> None:
        proc = subprocess.run([str(RAY), *args], env=self.env, capture_output=True, text=True,
                              timeout=timeout, check=False)
        if proc.returncode != 0:
            pytest.fail(f"`ray {args[0]}` failed ({proc.returncode}):\n{proc.stdout[-3000:]}"
                        f"\n{proc.stderr[-3000:]}")

    @staticmethod
    def node_ports(ports: list[int]) -> list[str]:
        """Each node its own agent, metrics and runtime-env ports: two nodes on one machine
        (or a developer's own cluster beside ours) must not share them."""
        listen, grpc, metrics, runtime_env = ports[:4]
        return [f"--dashboard-agent-listen-port={listen}", f"--dashboard-agent-grpc-port={grpc}",
                f"--metrics-export-port={metrics}", f"--runtime-env-agent-port={runtime_env}"]

    def start_head(self) -> None:
        self.ray("start", "--head", "--num-cpus=1", f"--port={self.gcs_port}",
                 "--dashboard-host=127.0.0.1", f"--dashboard-port={self.dashboard_port}",
                 f"--ray-client-server-port={self.head_ports[4]}",
                 *self.node_ports(self.head_ports),
                 "--disable-usage-stats", f"--temp-dir={self.temp_dir}")

    def start_worker(self) -> None:
        self.ray("start", f"--address=127.0.0.1:{self.gcs_port}", "--num-cpus=8",
                 '--resources={"agent": 8}', *self.node_ports(self.worker_ports),
                 "--disable-usage-stats", f"--temp-dir={self.temp_dir}")

    def wait_ready(self) -> None:
        """Until a job runs on the worker: the head's job agent answers a while after
        `ray start` returns."""
        from ray.job_submission import JobSubmissionClient

        client = JobSubmissionClient(self.url)
        deadline = time.monotonic() + 120
        last = ""
        while time.monotonic() < deadline:
            try:
                job = client.submit_job(entrypoint="true", entrypoint_resources={"agent": 1})
                while not client.get_job_status(job).is_terminal():
                    time.sleep(0.2)
                if str(client.get_job_status(job)) == "SUCCEEDED":
                    return
                last = client.get_job_info(job).message or ""
            except RuntimeError as exc:
                last = str(exc)
            time.sleep(0.5)
        pytest.fail(f"the local Ray cluster never ran a job: {last}")

    def worker_raylet(self) -> int | None:
        """The worker node's raylet: the one started with the worker's metrics port."""
        marker = f"--metrics_export_port={self.worker_ports[2]}"
        return next((p for p in processes_mentioning(marker)
                     if b"raylet" in Path(f"/proc/{p}/cmdline").read_bytes()), None)

    def kill_worker(self) -> None:
        """The worker node dies at once: its raylet and everything under it."""
        raylet = self.worker_raylet()
        assert raylet is not None, "the worker node is not running"
        kill_all(descendants(raylet))

    def own_processes(self) -> list[int]:
        """Every process of this cluster: those under its temp dir, and the Ray Client
        server, which names only the head's address."""
        at_head = set(processes_mentioning(f":{self.gcs_port}"))
        client = [p for p in processes_mentioning("ray.util.client.server") if p in at_head]
        return processes_mentioning(str(self.temp_dir)) + client

    def stop(self) -> None:
        """SIGTERM every process of the cluster, then SIGKILL what is left, until none
        is (bounded): a cluster left behind would hold ports and 2 GB."""
        deadline = time.monotonic() + 60
        grace = time.monotonic() + 10
        sent_term: set[int] = set()
        while (pids := self.own_processes()) and time.monotonic() < deadline:
            everyone = {c for p in pids for c in descendants(p)}
            if time.monotonic() < grace:
                for pid in everyone - sent_term:
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGTERM)
                sent_term |= everyone
            else:
                kill_all(sorted(everyone))
            time.sleep(0.3)


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[Cluster]:
    if not RAY.exists():
        pytest.fail(f"Ray is not installed in {VENV_BIN} (run bash .ci/install-ray.sh)")
    # Short: Ray puts Unix sockets under it, and long socket paths fail.
    temp_dir = Path(tempfile.mkdtemp(prefix="zr", dir="/tmp"))
    ports = free_ports(11)
    gcs, dashboard, head, worker = ports[0], ports[1], ports[2:7], ports[7:]
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0",
           "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}
    env.pop("RAY_ADDRESS", None)
    cluster = Cluster(temp_dir, gcs, dashboard, head, worker, env)
    try:
        cluster.start_head()
        cluster.start_worker()
        cluster.wait_ready()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(temp_dir, ignore_errors=True)  # Ray's logs and sockets


@pytest.fixture
def cluster(ray_cluster: Cluster) -> Cluster:
    """The session's cluster, with its worker node up (a test may have killed it)."""
    if ray_cluster.worker_raylet() is None:
        ray_cluster.start_worker()
        ray_cluster.wait_ready()
    return ray_cluster


def executor_toml(cluster: Cluster, fake_bin: Path, scenario: Path | None = None,
                  log: Path | None = None, kind: str = "local",
                  address: str | None = None) -> str:
    """An [executor] section for a test project's .zwarm/config.toml."""
    env_vars = remote_env(fake_bin, scenario, log)["env_vars"]
    lines = ["[executor]", f'kind = "{kind}"', f'address = "{address or cluster.url}"',
             "resources = { agent = 1 }", "", "[executor.runtime_env.env_vars]"]
    lines += [f"{k} = {json.dumps(v)}" for k, v in env_vars.items()]
    return "\n".join(lines) + "\n"


def remote_env(fake_bin: Path, scenario: Path | None = None, log: Path | None = None) -> dict:
    """runtime_env for a test job: the fake CLIs and this venv's python on the worker's
    PATH (the entrypoint runs `python`), and the fake agent's script and log."""
    env_vars = {"PATH": f"{fake_bin}{os.pathsep}{VENV_BIN}{os.pathsep}${{PATH}}"}
    if scenario is not None:
        env_vars["FAKE_AGENT_SCENARIO"] = str(scenario)
    if log is not None:
        env_vars["FAKE_AGENT_LOG"] = str(log)
    return {"env_vars": env_vars}


def git_project(root: Path) -> None:
    """Make `root` a git repository with one commit (remote sessions need worktrees)."""
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_AUTHOR_NAME": "t",
           "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    (root / "app.py").write_text("print('app')\n")
    for args in (["init", "-q"], ["add", "app.py"], ["commit", "-qm", "init"]):
        subprocess.run(["git", *args], cwd=root, env=env, check=True)


def write_json(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data))
    return path
