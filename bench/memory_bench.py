"""Benchmark `[memory]`: the daemon's memory and responsiveness while it ingests two
100k-step sessions in a 1,000-session store.

The real daemon over stdio, as in `[lsp]`. Two running codex turns (their run.json names
this process as the runner, so the daemon follows them as live turns) get 100,000
`item.completed` lines each, written in bursts, while the client keeps asking
`zwarm/peekSession`: the slowest answer during the ingest is the longest the daemon's event
loop was kept from serving (a stall). Memory is the daemon's resident set from /proc
(VmRSS after, and VmHWM, its peak). Then a full `zwarm/getTrajectory` of one of the two
sessions, whose older steps are no longer in memory.

Every delivered step is counted: the run fails if one is lost or shown twice.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zwarm_ls.runner import process_start_ticks
from zwarm_ls.store import SessionMeta, Store, TurnRecord, now_iso, write_json_atomic

from .gen import StoreSpec, generate_store
from .lsp_bench import Observer, make_client, request, start_daemon, stop_daemon
from .stats import LogFn, Row, percentile, time_async

BURST_LINES = 2_000


@dataclass(frozen=True)
class MemoryConfig:
    sessions: int
    seeded_bytes: int
    steps: int  # per long session
    burst_pause_s: float = 0.02


FULL = MemoryConfig(1000, 20 * 1024 * 1024, 100_000)
QUICK = MemoryConfig(200, 5 * 1024 * 1024, 20_000)


def proc_status_kb(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return float(line.split()[1])
    return float("nan")


def long_session(store: Store, n: int) -> Path:
    """A running codex turn whose runner is this process; returns its turn file."""
    now = now_iso()
    meta = SessionMeta(id=store.new_id(), task=f"long session {n}", status="running",
                       working_dir=str(store.root), created_at=now, updated_at=now,
                       model="gpt-5.1-codex-mini", turn=1, adapter="codex",
                       turns=[TurnRecord(turn=1, status="running", started_at=now)])
    store.create(meta)
    paths = store.turn_paths(meta.id, 1)
    pid = os.getpid()
    write_json_atomic(paths.run, {"pid": pid, "pgid": os.getpgid(pid),
                                  "start_ticks": process_start_ticks(pid), "started_at": now})
    return paths.output


def codex_line(n: int) -> bytes:
    item = {"id": f"item_{n}", "type": "command_execution", "command": f"pytest -k case_{n}",
            "aggregated_output": f"tests/test_x.py::case_{n} PASSED\n", "exit_code": 0,
            "status": "completed"}
    return json.dumps({"type": "item.completed", "item": item}).encode() + b"\n"


async def write_bursts(files: list[Path], steps: int, pause_s: float) -> None:
    handles = [f.open("ab") for f in files]
    # Built once: writing must cost this process (which also measures) next to nothing.
    full_burst = b"".join(codex_line(n) for n in range(BURST_LINES))
    try:
        for start in range(0, steps, BURST_LINES):
            lines = min(BURST_LINES, steps - start)
            burst = full_burst if lines == BURST_LINES else \
                b"".join(codex_line(n) for n in range(lines))
            for h in handles:
                h.write(burst)
                h.flush()
            await asyncio.sleep(pause_s)
    finally:
        for h in handles:
            h.close()


class StepCounter(Observer):
    """Every step index delivered, per session."""

    def __init__(self) -> None:
        super().__init__()
        self.indices: dict[str, list[int]] = {}

    def on_update(self, params: Any) -> None:
        steps = params.get("newSteps") or []
        self.indices.setdefault(params["session"]["id"], []).extend(s["index"] for s in steps)


async def run(tmp: Path, cfg: MemoryConfig, log: LogFn) -> list[Row]:
    project = tmp / "memory" / "project"
    generate_store(project, StoreSpec(sessions=cfg.sessions, total_bytes=cfg.seeded_bytes,
                                      running=0, seed=31))
    store = Store(project)
    files = [long_session(store, n) for n in range(2)]
    ids = [f.parent.parent.name for f in files]
    counter = StepCounter()
    client = make_client(counter)
    pid = await start_daemon(client, project, dict(os.environ), progress=False)
    try:
        await request(client, "zwarm/listSessions", {"limit": 1})
        await asyncio.sleep(2.0)  # the background settling of zwarm's sessions is done
        rss_before = proc_status_kb(pid, "VmRSS") / 1024
        unloaded = await time_async(lambda: request(client, "zwarm/peekSession",
                                                    {"sessionId": ids[0]}), 100)
        writer = asyncio.create_task(write_bursts(files, cfg.steps, cfg.burst_pause_s))
        loaded: list[float] = []
        started = time.perf_counter()
        while not writer.done() or any(len(counter.indices.get(i, [])) < cfg.steps for i in ids):
            loaded += await time_async(lambda: request(client, "zwarm/peekSession",
                                                       {"sessionId": ids[0]}), 1)
            await asyncio.sleep(0.01)
            if time.perf_counter() - started > 300:
                raise TimeoutError("the daemon did not deliver every step in 5 minutes")
        ingest_s = time.perf_counter() - started
        for session_id in ids:
            if counter.indices[session_id] != list(range(cfg.steps)):
                raise AssertionError(f"session {session_id[:8]}: steps lost or repeated")
        rss_after = proc_status_kb(pid, "VmRSS") / 1024
        t0 = time.perf_counter()
        full = await request(client, "zwarm/getTrajectory",
                             {"sessionId": ids[0], "full": True})
        full_ms = (time.perf_counter() - t0) * 1000
        if [s["index"] for s in full["steps"]] != list(range(cfg.steps)):
            raise AssertionError("the full trajectory is not every step in order")
        peak = proc_status_kb(pid, "VmHWM") / 1024
    finally:
        await stop_daemon(client)
    log(f"memory: ingested 2 x {cfg.steps} steps in {ingest_s:.1f} s")
    tag = f"[memory {cfg.sessions} sessions + 2 x {cfg.steps // 1000}k steps]"
    return [
        Row(f"{tag} daemon RSS after the ingest vs before", rss_after, rss_before, unit="MB",
            note="goal: under 150 MB"),
        Row(f"{tag} daemon peak RSS (VmHWM), full trajectory included", peak, unit="MB"),
        Row(f"{tag} peekSession p99 while ingesting vs unloaded", percentile(loaded, 99),
            percentile(unloaded, 99), note=f"n={len(loaded)}/100"),
        Row(f"{tag} slowest peekSession while ingesting vs unloaded", max(loaded),
            max(unloaded), note="the longest the event loop kept a request waiting"),
        Row(f"{tag} ingest, {2 * cfg.steps} steps delivered once each", ingest_s * 1000,
            note="written in bursts of 2,000 lines per session"),
        Row(f"{tag} getTrajectory full of one session (older steps re-read)", full_ms),
    ]
