"""Benchmark `[list]`: every session of a 1,000-session zwarm 3.9 store, listed through the
real daemon over stdio, against zwarm 3.9's own list of the same store; and the time from
starting the daemon to a complete answer.

zwarm's side is its `list_sessions` orchestrator tool (every session's meta.json, then its
messages re-parsed from the turn files: the only listing in zwarm that carries the last
reply, which zwarm-ls's list carries too), called in this process with a warm page cache,
`baseline_runs` times, before the daemon starts (so nothing runs beside it).

zwarm-ls's side is what an editor waits for: `zwarm/listSessions` sent by pygls's
LanguageClient to `python -m zwarm_ls.cli serve`, the reply read from the pipe and parsed.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .baseline import Zwarm
from .gen import StoreSpec, generate_store, tree_bytes
from .lsp_bench import Observer, make_client, request, settled, start_daemon, stop_daemon
from .stats import LogFn, Row, freeze_harness, latency_rows, percentile, time_async, time_sync
from .store_bench import warm_page_cache

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


@dataclass(frozen=True)
class ListConfig:
    sessions: int
    total_bytes: int
    baseline_runs: int
    calls: int
    seed: int = 21


FULL = ListConfig(1000, 100 * 1024 * 1024, 20, 100)
QUICK = ListConfig(200, 10 * 1024 * 1024, 5, 30)


@dataclass
class DaemonRun:
    initialized_ms: float
    first_ms: float
    settled_ms: float  # until every zwarm session's turn files were read
    reply_kb: float
    full: list[float]
    page: list[float]


async def quiet(observer: Observer, quiet_s: float = 1.0, limit_s: float = 120.0) -> None:
    """Wait until no zwarm/sessionUpdated came for `quiet_s`: on a first start the daemon
    reads zwarm's own turn files in the background and pushes each session it settles."""
    deadline = time.monotonic() + limit_s
    seen = -1
    while seen != observer.notifications:
        seen = observer.notifications
        await asyncio.sleep(quiet_s)
        if time.monotonic() > deadline:
            raise TimeoutError("the daemon kept pushing updates with nothing running")


async def _ours(project: Path, sessions: int, calls: int) -> DaemonRun:
    """Start the daemon, wait for the first complete list, then time `calls` lists."""
    observer = Observer()
    client = make_client(observer)
    env = {**os.environ}
    started = time.perf_counter()
    await start_daemon(client, project, env, progress=False)
    initialized_ms = (time.perf_counter() - started) * 1000
    try:
        first = await request(client, "zwarm/listSessions", {})
        first_ms = (time.perf_counter() - started) * 1000
        if first["counts"]["total"] != sessions or len(first["sessions"]) != sessions:
            raise AssertionError(f"the first list had {len(first['sessions'])} of {sessions} "
                                 "sessions: a request before the index was ready was not held")
        reply_bytes = len(json.dumps(first, separators=(",", ":")))
        await settled(client)
        settled_ms = (time.perf_counter() - started) * 1000
        await quiet(observer)
        freeze_harness()
        full = await time_async(lambda: request(client, "zwarm/listSessions", {}), calls)
        page = await time_async(lambda: request(client, "zwarm/listSessions", {"limit": 50}),
                                calls)
    finally:
        await stop_daemon(client)
    return DaemonRun(initialized_ms, first_ms, settled_ms, reply_bytes / 1024, full, page)


async def _settled_again(project: Path) -> float:
    """Spawn → every zwarm session settled, on a start after the first: what the first one
    read comes from the settled cache."""
    client = make_client(Observer())
    started = time.perf_counter()
    await start_daemon(client, project, {**os.environ}, progress=False)
    try:
        await settled(client)
        return (time.perf_counter() - started) * 1000
    finally:
        await stop_daemon(client)


NODE_MODULES = REPO / "editor-clients" / "vscode" / "node_modules"


def node_client_times(project: Path, calls: int) -> list[float]:
    """`calls` list round trips from vscode-jsonrpc (the VS Code extension's client)."""
    if shutil.which("node") is None or not (NODE_MODULES / "vscode-jsonrpc").is_dir():
        raise RuntimeError("the [list] bench needs node and the VS Code extension's "
                           "node_modules (bash .ci/setup.sh installs both)")
    done = subprocess.run(["node", str(HERE / "list_client.js"), str(NODE_MODULES),
                           sys.executable, str(project), str(calls)],
                          capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"bench/list_client.js failed: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout)["times"]


async def run(tmp: Path, cfg: ListConfig, log: LogFn) -> list[Row]:
    project = tmp / "list" / "project"
    infos = generate_store(project, StoreSpec(sessions=cfg.sessions, total_bytes=cfg.total_bytes,
                                              running=0, seed=cfg.seed))
    size_mb = tree_bytes(project) / 1e6
    warm_page_cache(project)
    zw = Zwarm.open(project)
    freeze_harness()
    baseline = time_sync(zw.list_with_messages, cfg.baseline_runs)
    log(f"list: zwarm 3.9 listed {len(infos)} sessions {cfg.baseline_runs} times, "
        f"p50 {percentile(baseline, 50):.0f} ms")
    ours = await _ours(project, len(infos), cfg.calls)
    settled_again_ms = await _settled_again(project)
    node = await asyncio.to_thread(node_client_times, project, cfg.calls)
    log(f"list: zwarm-ls p50 {percentile(ours.full, 50):.1f} ms")
    tag = f"[list {len(infos)} sessions / {size_mb:.0f} MB]"
    rows = [
        Row(f"{tag} daemon spawn → initialize answered", ours.initialized_ms,
            note="Python start-up and imports included"),
        Row(f"{tag} daemon spawn → first complete listSessions", ours.first_ms,
            note="the request is held until the index is built, then answered in full"),
        Row(f"{tag} initialize answered → first complete listSessions",
            ours.first_ms - ours.initialized_ms,
            note="the daemon's own start: every meta.json read, then the list (goal < 1 s)"),
        Row(f"{tag} daemon spawn → zwarm's turn files settled", ours.settled_ms,
            note="first start only: usage and step counts of zwarm's sessions, read once "
                 "in the background while requests are served; lists are timed after it"),
        Row(f"{tag} daemon spawn → zwarm's turn files settled, a later start vs the first",
            settled_again_ms, ours.settled_ms,
            note="what the first start read comes from .zwarm/zwarm-ls/settled.json"),
        Row(f"{tag} listSessions reply size", ours.reply_kb, unit="KB"),
    ]
    rows += latency_rows(f"{tag} listSessions, all sessions, VS Code's client (vscode-jsonrpc)",
                         node, baseline, note=f"baseline: zwarm 3.9 list_sessions tool, "
                                              f"{cfg.baseline_runs} runs; {cfg.calls} calls")
    rows += latency_rows(f"{tag} listSessions, all sessions, pygls client", ours.full,
                         baseline, note="Python's json module parses the reply")
    rows += latency_rows(f"{tag} listSessions limit=50", ours.page, baseline)
    return rows
