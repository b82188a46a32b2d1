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
import fcntl
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from ..config import ExecutorConfig
from ..runner import launch_lock, runner_alive
from ..store import SessionMeta, Store, TurnPaths, read_json, write_json_atomic
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
        paths = store.turn_paths(meta.id, turn)
        paths.output.parent.mkdir(parents=True, exist_ok=True)
        # Held until the relay has submitted the job (or queued it): a far cluster or a big
        # upload can take longer than the index's launch grace, and the index must see a
        # launch in progress, not a turn its daemon abandoned.
        with launch_lock(paths):
            self._launch(store, meta, turn, prompt, argv, env)

    def _launch(self, store: Store, meta: SessionMeta, turn: int, prompt: str,
                argv: list[str], env: dict[str, str]) -> None:
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


Followed = Literal["started", "followed", "ended", "not-remote", "failed"]


@contextlib.contextmanager
def _try_launch_lock(paths: TurnPaths) -> Iterator[bool]:
    """The turn's launch lock if nobody holds it (True), else False at once: whoever
    holds it is starting or re-attaching the turn, and a watcher thread must not wait."""
    fd = os.open(paths.output.with_suffix(".launch.lock"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def _follow_again(store: Store, session_id: str, turn: int) -> Followed:
    """Start a relay with `--attach` for a remote turn whose job was submitted but whose
    relay died (SIGKILL, OOM, a reboot of this machine) before settling it. Under the
    turn's launch lock, so two daemons on one store never start two relays (which would
    both append to the turn file)."""
    paths = store.turn_paths(session_id, turn)
    if not state_path(paths).exists():
        return "not-remote"
    with _try_launch_lock(paths) as mine:
        if not mine:
            return "followed"  # someone is launching or re-attaching it right now
        if paths.exit.exists():
            return "ended"
        run = read_json(paths.run)
        if run and runner_alive(run):
            return "followed"
        if not (read_json(state_path(paths)) or {}).get("submission_id"):
            return "failed"  # it died before submitting: there is no job to follow
        try:
            _start_relay(store, session_id, turn, attach=True)
        except OSError:
            return "failed"  # the new relay settled the turn with the reason
        return "started"


def reattach(store: Store, session_id: str, turn: int) -> bool:
    """If `turn` is a remote turn whose relay died before settling it, start a new relay
    that follows the same job by submission id and writes only what is missing. True if
    it did."""
    return _follow_again(store, session_id, turn) == "started"


def resume_orphan(store: Store, session_id: str, turn: int) -> bool:
    """For the index, where it found a turn's runner gone: True when the turn is a remote
    one that a relay follows again (started now, or by another daemon), so it must not be
    settled; False for a local turn, or one that cannot be followed (then settle it)."""
    return _follow_again(store, session_id, turn) in ("started", "followed")


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


AGENT_CLIS = ("codex", "claude")
# Each line of the probe job's log: "have NAME VERSION" or "missing NAME". It runs in a
# scratch folder: a CLI that misreads --version must not write into the node's cwd.
_PROBE_SCRIPT = (
    'scratch=$(mktemp -d) && cd "$scratch" || exit 1; '
    "for b in git codex claude; do if command -v $b >/dev/null; then "
    "echo have $b $($b --version </dev/null 2>/dev/null | head -n1); "
    "else echo missing $b; fi; done; "
    "python -c 'import pydantic' 2>/dev/null && echo have pydantic || echo missing pydantic; "
    'cd / && rm -rf "$scratch"')


@dataclass
class ClusterReport:
    """What a probe job found on a node that takes agent jobs."""

    ray_version: str | None = None
    problems: list[str] = field(default_factory=list)  # the cluster itself: unusable
    found: dict[str, str] = field(default_factory=dict)  # tool -> version line (or "")
    missing: list[str] = field(default_factory=list)  # tools not on the worker

    def missing_problems(self) -> list[str]:
        return [f"the worker lacks {name}" if name not in AGENT_CLIS else
                f"the {name} CLI is not on the worker's PATH "
                "(needed only for sessions of that adapter)" for name in self.missing]


def cluster_report(address: str | None, resources: dict[str, float] | None = None,
                   runtime_env: dict | None = None, timeout_s: float = 90.0) -> ClusterReport:
    """Reach the cluster, and run a probe job where agent jobs would run (same resources
    and runtime_env) that says which of git, pydantic and the agent CLIs it finds."""
    report = ClusterReport()
    try:
        report.ray_version = probe(address)
    except RayUnavailable as exc:
        report.problems.append(str(exc))
        return report
    try:
        from ray.job_submission import JobSubmissionClient
    except ImportError:
        report.problems.append("the `ray` package is not installed here: "
                               "pip install 'ray[default]'")
        return report
    client = JobSubmissionClient(dashboard_url(address))
    try:
        job = client.submit_job(entrypoint=_PROBE_SCRIPT, runtime_env=runtime_env or None,
                                entrypoint_resources=resources or None,
                                metadata={"zwarm_check": "1"})
    except Exception as exc:
        report.problems.append(f"the cluster refused a probe job: {exc}")
        return report
    deadline = time.monotonic() + timeout_s
    while not client.get_job_status(job).is_terminal():
        if time.monotonic() > deadline:
            with contextlib.suppress(Exception):
                client.stop_job(job)
            report.problems.append(f"no node took a probe job within {timeout_s:.0f} s "
                                   f"(resources {resources or {}}): is a worker with them up?")
            return report
        time.sleep(0.5)
    for line in client.get_job_logs(job).splitlines():
        words = line.split(maxsplit=2)
        if len(words) >= 2 and words[0] == "missing":
            report.missing.append(words[1])
        elif len(words) >= 2 and words[0] == "have":
            report.found[words[1]] = words[2].strip() if len(words) > 2 else ""
    return report


def check_cluster(address: str | None, resources: dict[str, float] | None = None,
                  runtime_env: dict | None = None, timeout_s: float = 90.0) -> list[str]:
    """What is wrong with the cluster for zwarm-ls (empty: nothing): reachable, and on a
    node that takes agent jobs, git, Python with pydantic, and the agent CLIs."""
    report = cluster_report(address, resources, runtime_env, timeout_s)
    return report.problems + report.missing_problems()


__all__ = ["ClusterReport", "RayExecutor", "RayUnavailable", "check_cluster", "cluster_report",
           "probe", "reattach", "recover", "resume_orphan"]
