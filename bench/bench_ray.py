"""Benchmark: turns on a Ray cluster (`executor = "ray"`) against local turns.

`python -m bench.bench_ray [--sessions 50] [--events 20] [--address URL]`

Without --address it starts its own local cluster (a head and one worker node, free
ports, a temp dir of its own; stopped at the end, only its own processes). It drives the
session service in this process (the daemon's service, its index and file watcher; the
JSON-RPC hop on top adds about a millisecond) with the fake agent as the model, and
reports:
1. delegate → first event of the agent, local vs ray (median of a few);
2. event → `zwarm/sessionUpdated` p50/p99 for a remote session: each probe event carries
   the wall time it was printed on the worker (same machine, same clock);
3. N concurrent remote sessions of E events each, all delegated at once and held at a
   gate until every one runs, then streaming together: every event arrives exactly once,
   the service's CPU share (whole run, and while all stream), the relays' memory.
Prints one markdown table on stdout; progress on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from zwarm_ls.config import ExecutorConfig, load_config
from zwarm_ls.protocol import DelegateParams, SessionUpdated
from zwarm_ls.service import SessionService

REPO = Path(__file__).resolve().parent.parent
FAKE_AGENT = REPO / "tests" / "fakes" / "fake_agent.py"
VENV_BIN = Path(sys.executable).parent
CLK_TCK = os.sysconf("SC_CLK_TCK")
TIMEOUT_S = 600


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def probe_turn(events: int, gap_s: float) -> list[dict]:
    turn: list[dict] = [{"emit": {"type": "thread.started", "thread_id": "{thread_id}"}}]
    for i in range(events):
        turn += [{"emit_time": {"type": "item.completed", "item": {
            "id": f"p{i}", "type": "agent_message", "text": "probe {now}"}}},
            {"sleep": gap_s}]
    turn.append({"emit": {"type": "turn.completed", "usage": {"input_tokens": 1,
                                                              "output_tokens": 1}}})
    return turn


def gated_turn(events: int, gap_s: float, gate: Path) -> list[dict]:
    """Says "ready", waits until `gate` exists, then streams like `probe_turn`: so every
    session of the concurrency run is up before any of them streams."""
    ready = {"emit": {"type": "item.completed", "item": {"id": "r", "type": "agent_message",
                                                         "text": "ready"}}}
    turn = probe_turn(events, gap_s)
    return [turn[0], ready, {"wait_for_file": str(gate)}, *turn[1:]]


def write_agent(folder: Path) -> Path:
    """Fake `codex` whose probe lines carry the time they were printed."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "timed_agent.py"
    script.write_text(
        "import json, os, sys, time, uuid\n"
        "turn = json.load(open(os.environ['BENCH_SCENARIO']))\n"
        "sys.stdin.read()\n"
        "tid = str(uuid.uuid4())\n"
        "for action in turn:\n"
        "    if 'sleep' in action:\n"
        "        time.sleep(action['sleep']); continue\n"
        "    if 'wait_for_file' in action:\n"
        "        while not os.path.exists(action['wait_for_file']): time.sleep(0.1)\n"
        "        continue\n"
        "    event = action.get('emit') or action.get('emit_time')\n"
        "    text = json.dumps(event).replace('{thread_id}', tid)\n"
        "    text = text.replace('{now}', repr(time.time()))\n"
        "    sys.stdout.write(text + '\\n'); sys.stdout.flush()\n")
    codex = folder / "codex"
    codex.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{script}" "$@"\n')
    codex.chmod(0o755)
    return folder


@contextmanager
def local_cluster(address: str | None) -> Iterator[str]:
    if address:
        yield address
        return
    from tests.ray.conftest import Cluster, free_ports

    temp_dir = Path(tempfile.mkdtemp(prefix="zrb", dir="/tmp"))
    ports = free_ports(11)
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0",
           "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}
    cluster = Cluster(temp_dir, ports[0], ports[1], ports[2:7], ports[7:], env)
    log("starting a local Ray cluster (head + worker) ...")
    try:
        cluster.start_head()
        cluster.start_worker()
        cluster.wait_ready()
        yield cluster.url
    finally:
        log("stopping the cluster ...")
        cluster.stop()
        shutil.rmtree(temp_dir, ignore_errors=True)


def git_project(root: Path) -> None:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_AUTHOR_NAME": "b",
           "GIT_AUTHOR_EMAIL": "b@b", "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@b"}
    (root / ".zwarm").mkdir(parents=True)
    (root / "app.py").write_text("print('app')\n")
    for args in (["init", "-q"], ["add", "app.py"], ["commit", "-qm", "init"]):
        subprocess.run(["git", *args], cwd=root, env=env, check=True)


def cpu_s(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rfind(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def relays() -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if b"zwarm_ls.executors.relay" in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


class Bench:
    def __init__(self, root: Path, address: str, agent_bin: Path, scenario: Path):
        self.root, self.scenario = root, scenario
        config, _ = load_config(root)
        env_vars = {"PATH": f"{agent_bin}{os.pathsep}{VENV_BIN}{os.pathsep}${{PATH}}",
                    "BENCH_SCENARIO": str(scenario)}
        config.executor = ExecutorConfig(kind="local", address=address,
                                         runtime_env={"env_vars": env_vars},
                                         resources={"agent": 0.01}, max_concurrent=1000)
        self.service = SessionService(config)
        self.arrivals: dict[str, list[tuple[float, str]]] = {}

    def on_update(self, update: SessionUpdated) -> None:
        now = time.time()
        for step in update.new_steps:
            self.arrivals.setdefault(update.session.id, []).append((now, step.summary or ""))

    async def delegate(self, executor: str) -> tuple[str, float]:
        started = time.time()
        result = await self.service.delegate(DelegateParams(
            task="bench", adapter="codex", executor=executor, isolation="worktree"))
        return result.session_id, started

    async def until_done(self, ids: list[str]) -> None:
        async def wait() -> None:
            while any(self.service.index.summary(i).status.is_active for i in ids):
                await asyncio.sleep(0.2)
        await asyncio.wait_for(wait(), TIMEOUT_S)

    def use(self, turn: list[dict]) -> None:
        self.scenario.write_text(json.dumps(turn))


def relays_rss() -> int:
    """Resident bytes of every relay process now."""
    pages = 0
    for pid in relays():
        try:
            pages += int(Path(f"/proc/{pid}/statm").read_text().split()[1])
        except OSError:
            continue
    return pages * os.sysconf("SC_PAGE_SIZE")


async def concurrent_sessions(bench: Bench, args: argparse.Namespace,
                              gate: Path) -> list[tuple[str, str]]:
    bench.use(gated_turn(args.events, 0.1, gate))
    me = os.getpid()
    cpu0, wall0 = cpu_s(me), time.monotonic()
    ids = [sid for sid, _ in await asyncio.gather(
        *(bench.delegate("ray") for _ in range(args.sessions)))]

    def said(session_id: str, prefix: str) -> int:
        return sum(1 for _, s in bench.arrivals.get(session_id, []) if s.startswith(prefix))

    peak_rss = 0
    while not all(said(i, "ready") for i in ids):
        peak_rss = max(peak_rss, relays_rss())
        await asyncio.sleep(1.0)
        if time.monotonic() - wall0 > TIMEOUT_S:
            raise TimeoutError("the concurrent sessions did not all start")
    running = sum(bench.service.index.summary(i).status.is_active for i in ids)
    all_up = time.monotonic()
    log(f"all {len(ids)} sessions up after {all_up - wall0:.1f} s; streaming ...")
    cpu_up = cpu_s(me)
    gate.touch()
    while any(bench.service.index.summary(i).status.is_active for i in ids):
        peak_rss = max(peak_rss, relays_rss())
        await asyncio.sleep(1.0)
        if time.monotonic() - wall0 > TIMEOUT_S:
            raise TimeoutError("the concurrent sessions did not finish")
    cpu1, wall1 = cpu_s(me), time.monotonic()
    statuses = [bench.service.index.summary(i).status.value for i in ids]
    counts = [said(i, "probe ") for i in ids]
    lost = sum(args.events - c for c in counts if c < args.events)
    doubled = sum(c - args.events for c in counts if c > args.events)
    return [
        (f"{args.sessions} concurrent ray sessions ({running} running at once), "
         f"{args.events} events each", f"{statuses.count('completed')} completed, {lost} lost, "
         f"{doubled} doubled"),
        ("… delegate of all → all running / → all done",
         f"{all_up - wall0:.1f} s / {wall1 - wall0:.1f} s"),
        ("daemon (session service) CPU, share of one core (goal < 10 %): whole run / "
         "while all stream", f"{(cpu1 - cpu0) / (wall1 - wall0) * 100:.1f} % / "
         f"{(cpu1 - cpu_up) / (wall1 - all_up) * 100:.1f} %"),
        (f"relays' peak RSS together ({args.sessions} relays)", f"{peak_rss / 2**20:.0f} MB"),
        (f"machine load average (1 min) at the end, {os.cpu_count()} cores",
         f"{os.getloadavg()[0]:.1f}"),
    ]


async def run(args: argparse.Namespace, address: str, work: Path) -> list[tuple[str, str]]:
    root = work / "project"
    root.mkdir()
    git_project(root)
    agent_bin = write_agent(work / "bin")
    os.environ["PATH"] = f"{agent_bin}{os.pathsep}{os.environ['PATH']}"
    os.environ["BENCH_SCENARIO"] = str(work / "scenario.json")  # for the local turns
    bench = Bench(root, address, agent_bin, work / "scenario.json")
    await bench.service.start()
    bench.service.subscribe(bench.on_update)
    rows: list[tuple[str, str]] = []
    try:
        # 1. delegate → first event
        bench.use(probe_turn(1, 0.0))
        for executor in ("local", "ray"):
            firsts = []
            for _ in range(args.repeats):
                session_id, started = await bench.delegate(executor)
                await bench.until_done([session_id])
                first = min(t for t, _ in bench.arrivals.get(session_id, [(float("nan"), "")]))
                firsts.append(first - started)
            rows.append((f"delegate → first event, {executor} (median of {args.repeats})",
                         f"{sorted(firsts)[len(firsts) // 2] * 1000:.0f} ms"))
            log(rows[-1][0] + ": " + rows[-1][1])
        # 2. event → sessionUpdated, one remote session
        bench.use(probe_turn(args.probes, 0.2))
        session_id, _ = await bench.delegate("ray")
        await bench.until_done([session_id])
        lags = [t - float(text.split()[1]) for t, text in bench.arrivals[session_id]
                if text.startswith("probe ")]
        rows.append((f"event → sessionUpdated, ray ({len(lags)} probes) p50 / p99",
                     f"{percentile(lags, 50):.2f} s / {percentile(lags, 99):.2f} s"))
        log(rows[-1][0] + ": " + rows[-1][1])
        # 3. N concurrent remote sessions: all delegated at once and held at a gate until
        # every one has said "ready" (so they really run at the same time), then all stream.
        rows += await concurrent_sessions(bench, args, work / "gate")
        for row in rows[-5:]:
            log(row[0] + ": " + row[1])
    finally:
        await bench.service.stop()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_ray", description=__doc__)
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--probes", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--address", help="an existing cluster's dashboard (Jobs API) URL")
    args = parser.parse_args(argv)
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    with tempfile.TemporaryDirectory(prefix="zwarm-bench-ray-") as tmp, \
            local_cluster(args.address) as address:
        rows = asyncio.run(run(args, address, Path(tmp)))
    print("| measure | result |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
