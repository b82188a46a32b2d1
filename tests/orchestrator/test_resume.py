"""Orchestrator runs outlive their process: `zwarm-ls orchestrate` killed mid-step is
listed by `zwarm-ls runs` as interrupted and carried on by `orchestrate --resume` with its
history, crew and steps, against the scripted model server."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.orchestrator.conftest import bodies, call, calls, tool_outputs, user_texts, write_config

WAIT_S = 60.0  # a bound for a broken test, never a measured duration


def zwarm(project: Path, *args: str) -> list[dict]:
    out = subprocess.run([sys.executable, "-m", "zwarm_ls.cli", *args, "--root", str(project),
                          "--json"], capture_output=True, text=True, timeout=120)
    assert out.returncode in (0, 1), out.stderr
    return [json.loads(line) for line in out.stdout.splitlines()]


def test_a_killed_run_is_listed_and_resumed(project: Path, fake_clis: Path,
                                             model_server) -> None:
    server = model_server({"responses": [
        calls(call("delegate", "d1", task="write hello")),
        {"hang": 60, "text": "never seen"},  # the process is killed while it waits
        calls(call("exit", "x1", message="resumed and done")),
    ]})
    write_config(project, "openai", server)
    proc = subprocess.Popen([sys.executable, "-m", "zwarm_ls.cli", "orchestrate", "build it",
                             "--root", str(project)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + WAIT_S
        while len(server.model_requests("responses")) < 2:  # step 2 is in flight
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    [listing] = zwarm(project, "runs")
    [run] = listing["runs"]
    assert (run["status"], run["stepCount"], len(run["sessions"])) == ("interrupted", 1, 1)

    lines = zwarm(project, "orchestrate", "--resume", run["runId"][-6:])
    result = lines[-1]
    assert (result["runId"], result["status"], result["message"], result["stepCount"]) == \
        (run["runId"], "exited", "resumed and done", 2)
    assert result["sessions"] == run["sessions"]

    # The resumed call carried the whole history: the task, the delegate and its output.
    resumed = bodies(server, "openai")[-1]
    texts = user_texts(resumed)
    assert texts[0] == "Task: build it" and "resumed after it was interrupted" in texts[-1]
    assert tool_outputs(resumed)["d1"]["session_id"] == run["sessions"][0]

    record = json.loads((project / ".zwarm" / "orchestrator" / run["runId"] / "run.json")
                        .read_text())
    assert record["resumed"] == 1 and record["status"] == "exited"
    kinds = [(s["index"], s["kind"]) for s in record["steps"]]
    assert [i for i, _ in kinds] == list(range(len(kinds)))  # numbered on, not restarted
    assert ("tool_call" in {k for _, k in kinds}) and record["steps"][-1]["kind"] != "error"

    [after] = zwarm(project, "runs")
    assert after["runs"][0]["status"] == "exited"
    refused = subprocess.run([sys.executable, "-m", "zwarm_ls.cli", "orchestrate", "--resume",
                              run["runId"], "--root", str(project)], capture_output=True,
                             text=True, timeout=60)
    assert refused.returncode == 2 and "nothing to resume" in refused.stderr


def test_zwarm_spellings_a_named_run_listed_by_instances_and_resumed_by_name(
        project: Path, fake_clis: Path, model_server) -> None:
    server = model_server({"responses": [
        {"hang": 60, "text": "never seen"},  # killed while its first step waits
        calls(call("exit", "x1", message="the other one")),  # the second run
        calls(call("exit", "x2", message="done by name")),  # the named run, resumed
    ]})
    write_config(project, "openai", server)
    proc = subprocess.Popen([sys.executable, "-m", "zwarm_ls.cli", "orchestrate", "build it",
                             "--name", "nightly", "--root", str(project)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + WAIT_S
        while not server.model_requests("responses"):
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finished = zwarm(project, "orchestrate", "a second run")[-1]
    assert finished["status"] == "exited"

    [live] = zwarm(project, "instances")
    assert [(r["name"], r["status"]) for r in live["runs"]] == [("nightly", "interrupted")]
    [everything] = zwarm(project, "instances", "--all")
    assert len(everything["runs"]) == 2

    taken = subprocess.run([sys.executable, "-m", "zwarm_ls.cli", "orchestrate", "again",
                            "--name", "nightly", "--root", str(project)],
                           capture_output=True, text=True, timeout=60)
    assert taken.returncode != 0 and "already named 'nightly'" in taken.stderr

    result = zwarm(project, "orchestrate", "--resume", "--instance", "nightly")[-1]
    assert (result["status"], result["message"]) == ("exited", "done by name")
    assert result["runId"] == live["runs"][0]["runId"]
