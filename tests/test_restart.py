"""Agents outlive the process that follows them: SIGKILL the follower mid-stream, start
a new one, and every step shows up exactly once with the right final status."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from zwarm_ls.store import Store

TIMEOUT = 60


def cli(project: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "zwarm_ls.cli", *args, "--root", str(project), "--json"]


def read_json_lines(proc: subprocess.Popen, count: int) -> list[dict]:
    """Read `count` JSON lines from a child's stdout (blocking, with a deadline)."""
    lines = []
    deadline = time.monotonic() + TIMEOUT
    while len(lines) < count and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(json.loads(line))
    return lines


def test_a_restarted_follower_sees_every_step_exactly_once(project, fake_clis, scenario,
                                                           tmp_path):
    gate = tmp_path / "gate"
    message = {"type": "item.completed", "item": {"type": "agent_message", "text": "{t}"}}
    first = [{"emit": json.loads(json.dumps(message).replace("{t}", f"before-{i}"))}
             for i in range(3)]
    second = [{"emit": json.loads(json.dumps(message).replace("{t}", f"after-{i}"))}
              for i in range(3)]
    scenario([{"emit": {"type": "thread.started", "thread_id": "T"}},
              {"emit": {"type": "turn.started"}}, *first, {"wait_for_file": str(gate)},
              *second, {"emit": {"type": "turn.completed", "usage": {"input_tokens": 1}}}])
    started = subprocess.run(cli(project, "delegate", "follow me"), capture_output=True,
                             text=True, check=True)
    session_id = json.loads(started.stdout)["sessionId"]

    follower = subprocess.Popen(cli(project, "traj", session_id, "--follow"),
                                stdout=subprocess.PIPE, text=True)
    seen_before_kill = read_json_lines(follower, 3)
    assert [s["summary"] for s in seen_before_kill] == ["before-0", "before-1", "before-2"]
    follower.send_signal(signal.SIGKILL)
    follower.wait()

    # the agent kept running without anyone watching; a new follower re-attaches
    run = json.loads(Store(project).turn_paths(session_id, 1).run.read_text())
    os.kill(run["pid"], 0)
    follower = subprocess.Popen(cli(project, "traj", session_id, "--follow"),
                                stdout=subprocess.PIPE, text=True)
    seen = read_json_lines(follower, 3)
    gate.touch()
    seen += [json.loads(line) for line in follower.stdout]
    assert follower.wait(timeout=TIMEOUT) == 0
    summaries = [s["summary"] for s in seen]
    assert summaries == [*(f"before-{i}" for i in range(3)), *(f"after-{i}" for i in range(3)),
                         "tokens: 1 in (0 cached), 0 out"]
    assert [s["index"] for s in seen] == list(range(7))

    shown = json.loads(subprocess.run(cli(project, "show", session_id), capture_output=True,
                                      text=True, check=True).stdout)
    assert shown["status"] == "completed" and shown["exitCode"] == 0
