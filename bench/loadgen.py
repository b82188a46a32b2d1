"""Streaming-session load for the LSP benchmark: `python -m bench.loadgen SPEC.json`.

It plays the part of N runners whose agents print JSONL: it appends one codex event per
session every 1/rate s to each turn file, plus a timestamped probe event to one more
session, for `duration` seconds. It is a separate process so that writing does not
compete with the measuring client for the GIL.

It also writes each session's run.json with its own pid and start time, so the daemon's
liveness checks see a live runner, exactly as for a real running turn.

Spec: {"turn_files": [...], "probe_file": path|null, "rate": events/s per session,
       "probe_rate": probes/s, "duration": s, "ready_file": path, "stop_file": path}
After `duration` it stops writing and waits, alive, until stop_file exists.
Output (stdout, one JSON line at the end):
    {"written": n, "step_events": n, "probes": n, "late_ticks": n}
(step_events: written lines that are a trajectory step, i.e. item.completed)
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from zwarm_ls.runner import process_start_ticks
from zwarm_ls.store import now_iso, write_json_atomic

from .gen import dumps, event_pool

MAX_CATCH_UP = 5  # ticks written back to back when we fall behind, then skip ahead
MAX_LINGER_S = 300.0  # never outlive a benchmark that forgot to stop us


def probe_line(seq: int) -> bytes:
    """An agent_message whose text carries the wall-clock write time (ns)."""
    return dumps({"type": "item.completed", "item": {
        "id": f"probe_{seq}", "type": "agent_message",
        "text": f"probe {seq} {time.time_ns()}"}}).encode()


def write_run_records(turn_files: list[str]) -> None:
    pid = os.getpid()
    record = {"pid": pid, "pgid": os.getpgid(pid), "start_ticks": process_start_ticks(pid),
              "started_at": now_iso()}
    for name in turn_files:
        write_json_atomic(Path(name).with_suffix(".run.json"), record)


def open_append(name: str) -> int:
    return os.open(name, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)


def run(spec: dict) -> dict[str, int]:
    files = list(spec["turn_files"])
    probe = spec.get("probe_file")
    write_run_records(files + ([probe] if probe else []))
    fds = [open_append(f) for f in files]
    probe_fd = open_append(probe) if probe else None
    pool = event_pool()
    interval = 1.0 / spec["rate"] if files else 0.01
    probe_every = max(1, round(1.0 / (spec["probe_rate"] * interval))) if probe else 0
    Path(spec["ready_file"]).write_text("ready")
    start = time.monotonic()
    end = start + spec["duration"]
    steps = [b'"type":"item.completed"' in line for line in pool]
    tick = written = step_events = probes = late = 0
    while (now := time.monotonic()) < end:
        due = int((now - start) / interval) + 1
        if due - tick > MAX_CATCH_UP:  # overloaded box: drop ticks rather than burst
            late += due - tick - MAX_CATCH_UP
            tick = due - MAX_CATCH_UP
        while tick < due:
            for i, fd in enumerate(fds):
                k = (tick + i) % len(pool)
                os.write(fd, pool[k])
                written += 1
                step_events += steps[k]
            if probe_fd is not None and tick % probe_every == 0:
                os.write(probe_fd, probe_line(probes))
                probes += 1
            tick += 1
        time.sleep(max(0.0, start + tick * interval - time.monotonic()))
    for fd in [*fds, *([probe_fd] if probe_fd is not None else [])]:
        os.close(fd)
    # Stay alive, idle, so the turns still look running until the benchmark is done.
    give_up = time.monotonic() + MAX_LINGER_S
    while not Path(spec["stop_file"]).exists() and time.monotonic() < give_up:
        time.sleep(0.05)
    return {"written": written, "step_events": step_events, "probes": probes,
            "late_ticks": late}


def main() -> int:
    spec = json.loads(Path(sys.argv[1]).read_text())
    print(json.dumps(run(spec)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
