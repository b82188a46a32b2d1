"""The Ray executor (DESIGN.md §8): each turn is a job on an existing Ray cluster.

Design, and why:
- Survival: the job belongs to the cluster, and a detached local relay (`relay.py`) per
  turn follows it. The relay keeps the runner's contract on disk (run.json names it,
  the turn file holds the agent's stdout, exit.json ends it), so the index, the store,
  notifications and change sets treat a remote turn exactly like a local one, and a
  daemon restart changes nothing: the relay never depended on the daemon.
- Exactly once: the job frames the agent's output with byte offsets (`ray_job.py`);
  the relay appends only bytes beyond what the turn file has, whether it reads a live
  tail, the whole log again at the end, or re-attaches by submission id (`--attach`).
- Code and results: the worker gets a git bundle of the session's "pre" snapshot (one
  parentless commit from the shadow repo, never the user's .git) and sends back a bundle
  of its result, which the relay fetches into the shadow repo and writes into the
  session's worktree; the "post" snapshot then makes it a worktree change set, pending
  until the user applies it. A remote session never writes the user's files.
- The daemon never imports Ray: a probe of the dashboard's HTTP API says whether the
  cluster is there (a clear error at delegate instead of a hang), and ending a turn is a
  SIGTERM to its relay, which calls `stop_job`.
- Latency: Ray's job-log tail delivers lines 1.2 to 2.2 s after the agent prints them; the
  relay writes them at once, and the daemon's file watcher pushes them within ~0.1 s.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

from ..config import ExecutorConfig
from ..runner import runner_alive
from ..store import SessionMeta, Store, read_json, write_json_atomic
from .ray_job import CHECKOUT_TOKEN
from .relay import state_path, upload_dir

PROBE_TIMEOUT_S = 5.0
STOP_WAIT_S = 8.0
DEFAULT_ADDRESS = "http://127.0.0.1:8265"


class RayUnavailable(ConnectionError):
    """The cluster cannot be reached: said at delegate time, never a hang."""


def dashboard_url(address: str | None) -> str:
    """The Jobs API address: `[executor] address`, else RAY_ADDRESS, else a local head.
    A bare host:port is taken as the dashboard's; `ray://` is Ray Client, not the Jobs API."""
    url = address or os.environ.get("RAY_ADDRESS") or DEFAULT_ADDRESS
    if url.startswith("ray://"):
        raise RayUnavailable(f"'{url}' is a Ray Client address; the executor needs the "
                             "dashboard (Jobs API) address, e.g. http://head:8265")
    return url if "://" in url else f"http://{url}"


def probe(address: str | None) -> str:
    """The cluster's Ray version, or RayUnavailable with the reason."""
    url = dashboard_url(address)
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/api/version",
                                    timeout=PROBE_TIMEOUT_S) as response:
            data = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise RayUnavailable(f"the Ray cluster at {url} cannot be reached ({reason}); start "
                             "it (`ray start --head`) or set [executor] address") from None
    return str(data.get("ray_version", "?"))


class RayExecutor:
    kind = "ray"

    def __init__(self, config: ExecutorConfig | None = None):
        self.config = config or ExecutorConfig(kind="ray")

    def launch(self, store: Store, meta: SessionMeta, turn: int, prompt: str,
               argv: list[str], env: dict[str, str]) -> None:
        record = getattr(meta, "change_set", None)
        if not isinstance(record, dict) or record.get("isolation") != "worktree":
            raise OSError("a Ray session needs worktree isolation (a git repository): its "
                          "result comes back as a change set to review, never into your files")
        url = dashboard_url(self.config.address)
        probe(url)
        paths = store.turn_paths(meta.id, turn)
        folder = upload_dir(paths)
        folder.mkdir(parents=True, exist_ok=True)
        paths.prompt.write_text(prompt, encoding="utf-8")
        (folder / "prompt").write_text(prompt, encoding="utf-8")
        # Only what the config adds to the environment travels: the worker has its own
        # PATH, HOME and credentials; the daemon's environment stays here.
        extra = {k: v for k, v in env.items() if os.environ.get(k) != v}
        remote_argv = [CHECKOUT_TOKEN if a == meta.working_dir else a for a in argv]
        write_json_atomic(folder / "spec.json", {
            "session_id": meta.id, "turn": turn, "adapter": meta.adapter, "model": meta.model,
            "argv": remote_argv, "env": extra})
        write_json_atomic(state_path(paths), {
            "address": url, "runtime_env": self.config.runtime_env,
            "resources": self.config.resources, "max_concurrent": self.config.max_concurrent})
        _start_relay(store, meta.id, turn, attach=False)

    def terminate(self, store: Store, meta: SessionMeta, turn: int) -> bool:
        """SIGTERM the relay, which stops the job (`stop_job`: the agent's process group
        on the worker goes too) and settles the turn as killed."""
        paths = store.turn_paths(meta.id, turn)
        run = read_json(paths.run)
        if not run or not runner_alive(run):
            return False
        with contextlib.suppress(ProcessLookupError):
            os.kill(run["pid"], signal.SIGTERM)
        deadline = time.monotonic() + STOP_WAIT_S
        while time.monotonic() < deadline and runner_alive(run):
            time.sleep(0.05)
        return True


def _start_relay(store: Store, session_id: str, turn: int, attach: bool) -> None:
    paths = store.turn_paths(session_id, turn)
    log_path = paths.output.with_suffix(".relay.log")
    args = [sys.executable, "-m", "zwarm_ls.executors.relay", str(store.root), session_id,
            str(turn)] + (["--attach"] if attach else [])
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    with open(log_path, "ab") as relay_log:
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=relay_log, env=env, close_fds=True)
    if proc.wait() != 0:  # the relay could not submit: its reason is in the state file
        error = (read_json(state_path(paths)) or {}).get("error") or "see " + str(log_path)
        raise RayUnavailable(error)


def reattach(store: Store, session_id: str, turn: int) -> bool:
    """If `turn` is a remote turn whose job was submitted but whose relay died (SIGKILL,
    a reboot of this machine) before settling it, start a new relay that follows the same
    job by submission id and writes only what is missing. True if it did. The index can
    call this where it would settle a vanished runner's turn as failed."""
    paths = store.turn_paths(session_id, turn)
    state = read_json(state_path(paths))
    run = read_json(paths.run)
    if not state or not state.get("submission_id") or paths.exit.exists() or \
            (run and runner_alive(run)):
        return False
    try:
        _start_relay(store, session_id, turn, attach=True)
    except OSError:
        return False
    return True


def recover(store: Store) -> list[str]:
    """`reattach` every running remote turn of the store; call it before the index first
    looks at runner liveness (daemon start). Returns the sessions re-attached."""
    attached = []
    for session_id in store.list_ids():
        meta = store.read_meta(session_id)
        if meta is not None and meta.status in ("pending", "running") and \
                reattach(store, session_id, meta.turn):
            attached.append(session_id)
    return attached


def check_cluster(address: str | None, resources: dict[str, float] | None = None,
                  runtime_env: dict | None = None, timeout_s: float = 90.0) -> list[str]:
    """What is wrong with the cluster for zwarm-ls (empty: nothing): reachable, and on a
    node that takes agent jobs, git, Python with pydantic, and the agent CLIs."""
    try:
        probe(address)
    except RayUnavailable as exc:
        return [str(exc)]
    try:
        from ray.job_submission import JobSubmissionClient
    except ImportError:
        return ["the `ray` package is not installed here: pip install 'ray[default]'"]
    script = ("for b in git codex claude; do command -v $b >/dev/null || echo missing $b; "
              "done; python -c 'import pydantic' 2>/dev/null || echo missing pydantic")
    client = JobSubmissionClient(dashboard_url(address))
    try:
        job = client.submit_job(entrypoint=script, runtime_env=runtime_env or None,
                                entrypoint_resources=resources or None,
                                metadata={"zwarm_check": "1"})
    except Exception as exc:
        return [f"the cluster refused a probe job: {exc}"]
    deadline = time.monotonic() + timeout_s
    while not client.get_job_status(job).is_terminal():
        if time.monotonic() > deadline:
            with contextlib.suppress(Exception):
                client.stop_job(job)
            return [f"no node took a probe job within {timeout_s:.0f} s "
                    f"(resources {resources or {}}): is a worker with them up?"]
        time.sleep(0.5)
    problems = []
    for line in client.get_job_logs(job).splitlines():
        if line.startswith("missing "):
            name = line.split()[1]
            problems.append(f"the worker lacks {name}" if name in ("git", "pydantic") else
                            f"the {name} CLI is not on the worker's PATH "
                            "(needed only for sessions of that adapter)")
    return problems


__all__ = ["RayExecutor", "RayUnavailable", "check_cluster", "probe", "reattach", "recover"]
