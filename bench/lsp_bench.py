"""Benchmark 3: the real daemon over stdio, unloaded and under streaming load.

`python -m zwarm_ls.cli serve` is started in a throwaway workspace (a seeded zwarm 3.9
store, fake `codex`/`claude` first on PATH) and driven by pygls's LanguageClient, as an
editor would: it advertises work-done progress, so the daemon also sends `$/progress`.

Phases, in one daemon:
1. delegate: a few real `zwarm/delegate` round trips through the fake codex CLI;
2. unloaded: zwarm/peekSession and zwarm/listSessions with nothing running, then the
   event-to-notification latency of one streaming session (probe events only);
3. loaded: 50 running sessions each streaming 100 codex events/s (bench.loadgen, a
   separate process acting as their runners) while the same requests and probes run.

Event-to-notification latency is the time from a probe line being appended to a turn
file (its wall-clock write time is inside the line) to the zwarm/sessionUpdated that
carries it arriving at the client.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import converters
from lsprotocol import types as lsp
from pygls.lsp.client import LanguageClient
from pygls.protocol import JsonRPCNotification, JsonRPCRequestMessage, JsonRPCResponseMessage

from zwarm_ls.store import SessionMeta, Store, TurnRecord, now_iso

from .gen import StoreSpec, generate_store
from .stats import LogFn, Row, freeze_harness, percentile, time_async

REPO = Path(__file__).resolve().parent.parent
FAKE_AGENT = REPO / "tests" / "fakes" / "fake_agent.py"
REQUEST_TIMEOUT_S = 30.0
CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class LspConfig:
    seeded_sessions: int
    seeded_bytes: int
    delegates: int
    requests: int  # per kind and phase
    probe_s: float
    load_s: float
    load_sessions: int = 50
    events_per_s: int = 100
    probe_rate: int = 20
    idle_s: float = 2.0


FULL = LspConfig(1000, 20 * 1024 * 1024, 3, 200, 6.0, 15.0)
QUICK = LspConfig(100, 5 * 1024 * 1024, 2, 60, 3.0, 8.0)


# ----- the workspace -----------------------------------------------------------------------


def write_fake_clis(bin_dir: Path) -> None:
    """`codex` and `claude` shims that run the repo's scripted fake agent."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    for flavor in ("codex", "claude"):
        shim = bin_dir / flavor
        shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE_AGENT}" {flavor} "$@"\n')
        shim.chmod(shim.stat().st_mode | stat.S_IEXEC)


def running_session(store: Store, task: str) -> str:
    """A turn as zwarm-ls leaves it while its runner starts (`pending`); bench.loadgen
    then writes the runner's record, as the runner would, and the daemon follows it."""
    now = now_iso()
    meta = SessionMeta(id=store.new_id(), task=task, status="pending",
                       working_dir=str(store.root), created_at=now, updated_at=now,
                       model="gpt-5.1-codex-mini", turn=1, adapter="codex", source="user",
                       messages=[{"role": "user", "content": task, "timestamp": now,
                                  "metadata": {"turn": 1}}],
                       turns=[TurnRecord(turn=1, status="running", started_at=now)])
    store.create(meta)
    return meta.id


def runqueue_wait_s(pid: int) -> float:
    """Time the process's threads spent runnable but waiting for a CPU (schedstat)."""
    total = 0.0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError, IndexError, ValueError):
            total += int((task / "schedstat").read_text().split()[1]) / 1e9
    return total


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


# ----- the client --------------------------------------------------------------------------


@dataclass
class Observer:
    """What the client receives: probe latencies, notification counts, settled sessions."""

    recording: bool = False
    probes: list[float] = field(default_factory=list)
    notifications: int = 0
    steps: int = 0
    progress: int = 0
    finished: dict[str, asyncio.Event] = field(default_factory=dict)

    def on_update(self, params: Any) -> None:
        self.notifications += 1
        session = params["session"]
        if session["status"] in ("completed", "failed", "killed"):
            self.finished.setdefault(session["id"], asyncio.Event()).set()
        if not self.recording:
            return
        received = time.time_ns()
        steps = params.get("newSteps") or []
        self.steps += len(steps)
        for step in steps:
            summary = step["summary"]
            if summary.startswith("probe "):
                self.probes.append((received - int(summary.rsplit(" ", 1)[1])) / 1e6)


def plain_converter() -> Any:
    """pygls's default converter turns the params of every non-LSP message into nested
    namedtuples, creating a new namedtuple class per JSON object (~0.5 ms each). Under
    load that made the Python client, not the daemon, the bottleneck. Editors parse
    JSON natively, so keep custom payloads as plain dicts, as they would."""
    converter = converters.get_converter()
    for message in (JsonRPCNotification, JsonRPCRequestMessage, JsonRPCResponseMessage):
        converter.register_structure_hook(message, lambda obj, cls: cls(**obj))
    return converter


def make_client(observer: Observer) -> LanguageClient:
    client = LanguageClient("zwarm-bench", "1.0", converter_factory=plain_converter)

    @client.feature("zwarm/sessionUpdated")
    def on_update(params: Any) -> None:
        observer.on_update(params)

    @client.feature(lsp.WINDOW_WORK_DONE_PROGRESS_CREATE)
    def on_create(_params: Any) -> None:
        return None

    @client.feature(lsp.PROGRESS)
    def on_progress(_params: Any) -> None:
        observer.progress += 1

    @client.feature(lsp.WINDOW_SHOW_MESSAGE)
    def on_message(_params: Any) -> None:
        return None

    return client


async def request(client: LanguageClient, method: str, params: dict[str, Any]) -> Any:
    return await asyncio.wait_for(client.protocol.send_request_async(method, params),
                                  REQUEST_TIMEOUT_S)


async def start_daemon(client: LanguageClient, project: Path, env: dict[str, str],
                       progress: bool = True) -> int:
    await client.start_io(sys.executable, "-m", "zwarm_ls.cli", "serve",
                          "--log-file", str(project.parent / "daemon.log"), env=env,
                          cwd=str(project))
    assert client._server is not None
    # stderr is a pipe nobody else reads: drain it so the daemon can never block on it
    stderr = client._server.stderr
    if stderr is not None:
        asyncio.get_running_loop().create_task(stderr.read())
    await asyncio.wait_for(client.initialize_async(lsp.InitializeParams(
        capabilities=lsp.ClientCapabilities(
            window=lsp.WindowClientCapabilities(work_done_progress=progress)),
        root_uri=project.as_uri(), process_id=os.getpid())), REQUEST_TIMEOUT_S)
    client.initialized(lsp.InitializedParams())
    return client._server.pid


async def stop_daemon(client: LanguageClient) -> None:
    server = client._server
    with contextlib.suppress(Exception):
        await asyncio.wait_for(client.shutdown_async(None), 10)
        client.exit(None)
    if server is not None:
        try:
            await asyncio.wait_for(server.wait(), 10)
        except TimeoutError:
            server.kill()  # only the daemon this benchmark started
    with contextlib.suppress(Exception):
        await asyncio.wait_for(client.stop(), 5)


async def until(predicate: Callable[[], Awaitable[bool]], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the daemon did not get there in time")
        await asyncio.sleep(0.05)


# ----- load ---------------------------------------------------------------------------------


class Load:
    """A running bench.loadgen process. After `duration` it stops writing but stays
    alive (its turns still look running) until `finish`, which the benchmark calls only
    once the daemon is shut down: otherwise the daemon would spend the end of the run
    settling 51 orphaned turns."""

    def __init__(self, tmp: Path, name: str, turn_files: list[Path], probe: Path,
                 rate: int, probe_rate: int, duration: float) -> None:
        self.ready, self.stop = tmp / f"{name}.ready", tmp / f"{name}.stop"
        self.duration = duration
        self.stats: dict[str, int] = {}
        spec = {"turn_files": [str(p) for p in turn_files], "probe_file": str(probe),
                "rate": rate, "probe_rate": probe_rate, "duration": duration,
                "ready_file": str(self.ready), "stop_file": str(self.stop)}
        spec_path = tmp / f"{name}.json"
        spec_path.write_text(json.dumps(spec))
        self.proc = subprocess.Popen([sys.executable, "-m", "bench.loadgen", str(spec_path)],
                                     cwd=REPO, stdout=subprocess.PIPE, text=True)

    async def wait_ready(self) -> None:
        async def ready() -> bool:
            if self.proc.poll() is not None:
                raise RuntimeError("bench.loadgen exited early")
            return self.ready.exists()
        await until(ready, 30)

    def rate(self, key: str) -> float:
        """Lines of one kind written per second (known once finished)."""
        return self.stats.get(key, 0) / self.duration

    async def finish(self, timeout: float = 30.0) -> None:
        self.stop.touch()
        try:
            out, _ = await asyncio.to_thread(self.proc.communicate, timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGKILL)  # our own child, by its pid
            self.proc.wait()
            return
        if out.strip():
            self.stats = json.loads(out.strip().splitlines()[-1])


# ----- phases --------------------------------------------------------------------------------


@dataclass
class Phase:
    peek: list[float] = field(default_factory=list)
    listing: list[float] = field(default_factory=list)
    probes: list[float] = field(default_factory=list)
    cpu_pct: float = float("nan")
    runqueue_pct: float = float("nan")
    client_cpu_pct: float = float("nan")
    notifications_per_s: float = float("nan")
    steps_per_s: float = float("nan")
    load: Load | None = None


class Meter:
    """Daemon and client resource use, and what the client received, over one window."""

    def __init__(self, pid: int, observer: Observer) -> None:
        self.pid, self.observer = pid, observer
        self.t0, self.cpu0 = time.monotonic(), cpu_seconds(pid)
        self.rq0, self.own0 = runqueue_wait_s(pid), time.process_time()
        self.n0 = observer.notifications
        observer.probes, observer.steps, observer.recording = [], 0, True

    def stop(self, phase: Phase) -> None:
        self.observer.recording = False
        elapsed = max(time.monotonic() - self.t0, 1e-9)
        phase.cpu_pct = (cpu_seconds(self.pid) - self.cpu0) / elapsed * 100
        phase.runqueue_pct = (runqueue_wait_s(self.pid) - self.rq0) / elapsed * 100
        phase.client_cpu_pct = (time.process_time() - self.own0) / elapsed * 100
        phase.notifications_per_s = (self.observer.notifications - self.n0) / elapsed
        phase.steps_per_s = self.observer.steps / elapsed
        phase.probes = self.observer.probes


async def settled(client: LanguageClient, limit_s: float = 120.0) -> None:
    """Wait until the daemon has read every zwarm session's turn files (each then has its
    step count: every session of the generated store has steps). A pause in pushes is no
    sign of it: the reading goes on for seconds before the first session is pushed, and
    lists timed meanwhile would measure a daemon busy parsing 100 MB."""
    deadline = time.monotonic() + limit_s
    while True:
        listed = await request(client, "zwarm/listSessions", {"fields": ["stepCount"]})
        if all(s.get("stepCount") for s in listed["sessions"]):
            return
        if time.monotonic() > deadline:
            raise TimeoutError("the daemon did not finish reading zwarm's turn files")
        await asyncio.sleep(0.1)


async def delegate_round_trips(client: LanguageClient, observer: Observer, n: int) -> list[float]:
    """delegate -> the sessionUpdated that reports it finished, through the fake codex."""
    out = []
    for i in range(n):
        start = time.perf_counter()
        result = await request(client, "zwarm/delegate", {"task": f"bench delegate {i}"})
        session_id = result["sessionId"]
        done = observer.finished.setdefault(session_id, asyncio.Event())
        await asyncio.wait_for(done.wait(), REQUEST_TIMEOUT_S)
        out.append((time.perf_counter() - start) * 1000)
    return out


async def timed_requests(client: LanguageClient, peek_id: str, count: int,
                         deadline: float | None = None) -> tuple[list[float], list[float]]:
    """`count` peeks then `count // 4` lists (a full list is much bigger); with a
    deadline, each kind gets half of the remaining time at most."""
    async def peek() -> None:
        await request(client, "zwarm/peekSession", {"sessionId": peek_id})

    async def listing() -> None:
        await request(client, "zwarm/listSessions", {})

    if deadline is None:
        return await time_async(peek, count), await time_async(listing, max(10, count // 4))
    half = time.monotonic() + (deadline - time.monotonic()) / 2
    peeks = await bounded(peek, count, half)
    lists = await bounded(listing, max(10, count // 4), deadline)
    return peeks, lists


async def bounded(fn: Callable[[], Awaitable[object]], count: int, deadline: float,
                  minimum: int = 3, grace_s: float = 10.0) -> list[float]:
    """Up to `count` calls until `deadline`; past it, keep going (for at most `grace_s`)
    only until there are `minimum` samples, so that a slow phase still yields a p50."""
    out: list[float] = []
    while len(out) < count:
        now = time.monotonic()
        if now >= deadline and (len(out) >= minimum or now >= deadline + grace_s):
            break
        out += await time_async(fn, 1)
    return out


async def idle_phase(client: LanguageClient, observer: Observer, pid: int, peek_id: str,
                     cfg: LspConfig) -> Phase:
    """Nothing running: first nobody asking (what the watcher alone costs), then the
    unloaded request latencies."""
    phase, meter = Phase(), Meter(pid, observer)
    await asyncio.sleep(cfg.idle_s)
    meter.stop(phase)
    phase.peek, phase.listing = await timed_requests(client, peek_id, cfg.requests)
    return phase


async def probe_phase(tmp: Path, store: Store, observer: Observer, pid: int,
                      cfg: LspConfig) -> Phase:
    """One streaming session, probes only: the unloaded event-to-notification latency."""
    probe = running_session(store, "probe (unloaded)")
    phase = Phase(load=Load(tmp, "probe", [], store.turn_paths(probe, 1).output,
                            cfg.events_per_s, cfg.probe_rate, cfg.probe_s + 0.5))
    await phase.load.wait_ready()
    await asyncio.sleep(0.5)  # the daemon picks the session up first
    meter = Meter(pid, observer)
    await asyncio.sleep(cfg.probe_s)
    meter.stop(phase)
    return phase


async def loaded_phase(tmp: Path, store: Store, client: LanguageClient, observer: Observer,
                       pid: int, peek_id: str, cfg: LspConfig) -> Phase:
    ids = [running_session(store, f"streaming load {i}") for i in range(cfg.load_sessions)]
    probe = running_session(store, "probe (loaded)")
    files = [store.turn_paths(i, 1).output for i in ids]
    phase = Phase(load=Load(tmp, "load", files, store.turn_paths(probe, 1).output,
                            cfg.events_per_s, cfg.probe_rate, cfg.load_s + 1.0))
    await phase.load.wait_ready()
    await asyncio.sleep(1.0)  # every session discovered and streaming
    meter = Meter(pid, observer)
    end = meter.t0 + cfg.load_s - 0.5  # stop measuring before the load stops
    phase.peek, phase.listing = await timed_requests(client, peek_id, cfg.requests, end)
    await asyncio.sleep(max(0.0, end - time.monotonic()))
    meter.stop(phase)
    return phase


# ----- the benchmark ------------------------------------------------------------------------


async def run(tmp: Path, cfg: LspConfig, log: LogFn) -> list[Row]:
    project = tmp / "lsp" / "project"
    generate_store(project, StoreSpec(sessions=cfg.seeded_sessions, total_bytes=cfg.seeded_bytes,
                                      running=0, seed=5))
    bin_dir = tmp / "lsp" / "bin"
    write_fake_clis(bin_dir)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("FAKE_AGENT_SCENARIO", None)
    store = Store(project)
    peek_id = sorted(store.list_ids())[0]
    observer = Observer()
    client = make_client(observer)
    started = time.perf_counter()
    pid = await start_daemon(client, project, env)
    unloaded, loaded = Phase(), Phase()
    try:
        async def indexed() -> bool:
            result = await request(client, "zwarm/listSessions", {})
            return result["counts"]["total"] >= cfg.seeded_sessions
        await until(indexed, 60)
        ready_ms = (time.perf_counter() - started) * 1000
        await settled(client)
        freeze_harness()
        delegate = await delegate_round_trips(client, observer, cfg.delegates)
        log(f"lsp: daemon ready in {ready_ms:.0f} ms; {cfg.delegates} delegates via fake codex")
        idle = await idle_phase(client, observer, pid, peek_id, cfg)
        unloaded = await probe_phase(tmp, store, observer, pid, cfg)
        log("lsp: unloaded phase measured")
        loaded = await loaded_phase(tmp, store, client, observer, pid, peek_id, cfg)
        log("lsp: loaded phase measured")
    finally:
        await stop_daemon(client)
        for phase in (unloaded, loaded):
            if phase.load is not None:
                await phase.load.finish()
        report_log(project.parent / "daemon.log", log)
    assert loaded.load is not None
    log(f"lsp: load wrote {loaded.load.rate('written'):.0f} events/s")
    return rows(cfg, ready_ms, delegate, idle, unloaded, loaded)


def report_log(path: Path, log: LogFn) -> None:
    """The daemon's own complaints (expected: 'runner vanished' once the load stops)."""
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return
    errors = [ln for ln in lines if " ERROR " in ln]
    warnings = [ln for ln in lines if " WARNING " in ln]
    log(f"lsp: daemon log: {len(errors)} errors, {len(warnings)} warnings")
    for line in errors[:5]:
        log(f"  {line}")


def rows(cfg: LspConfig, ready_ms: float, delegate: list[float], idle: Phase, unloaded: Phase,
         loaded: Phase) -> list[Row]:
    tag = "[lsp]"
    load = f"{cfg.load_sessions}x{cfg.events_per_s} ev/s"
    out = [Row(f"{tag} daemon start → index ready ({cfg.seeded_sessions} sessions)", ready_ms),
           Row(f"{tag} delegate → finished notification (fake codex) p50",
               percentile(delegate, 50))]
    for label, ours, base in (("peekSession", loaded.peek, idle.peek),
                              ("listSessions", loaded.listing, idle.listing),
                              ("event → sessionUpdated", loaded.probes, unloaded.probes)):
        for q in (50, 99):
            note = f"n={len(ours)}/{len(base)}" if q == 50 else ""
            out.append(Row(f"{tag} {label} p{q}, loaded ({load}) vs unloaded",
                           percentile(ours, q), percentile(base, q), note=note))
    out.append(Row(f"{tag} daemon CPU, loaded vs one streaming session", loaded.cpu_pct,
                   unloaded.cpu_pct, unit="%", note=f"idle daemon: {idle.cpu_pct:.0f}%"))
    out.append(Row(f"{tag} daemon runnable but waiting for a CPU, loaded vs one streaming "
                   "session", loaded.runqueue_pct, unloaded.runqueue_pct, unit="%",
                   note="other jobs on the box"))
    out.append(Row(f"{tag} client CPU (this process), loaded vs one streaming session",
                   loaded.client_cpu_pct, unloaded.client_cpu_pct, unit="%"))
    per_core = loaded.steps_per_s / (loaded.cpu_pct / 100) if loaded.cpu_pct > 0 else math.nan
    written = loaded.load.rate("written") if loaded.load else math.nan
    step_events = loaded.load.rate("step_events") if loaded.load else math.nan
    out.append(Row(f"{tag} steps delivered per s, loaded", loaded.steps_per_s, unit="/s",
                   note=f"{step_events:.0f}/s step events appended; "
                        f"≈{per_core:.0f}/s per core of daemon CPU"))
    out.append(Row(f"{tag} sessionUpdated received per s, loaded vs unloaded",
                   loaded.notifications_per_s, unloaded.notifications_per_s, unit="/s",
                   note=f"{written:.0f} events/s appended"))
    return out
