"""`executor: "ray"` through the real daemon over stdio: the same requests, notifications
and change-set review as a local session, with the fake agent on the cluster's worker."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from pygls.exceptions import JsonRpcException

from tests.conftest import Scenario
from tests.lsp.conftest import StartClient
from tests.lsp_helpers import request
from tests.ray.conftest import Cluster, executor_toml, free_ports, git_project
from tests.ray.test_ray_executor import held_turn

TIMEOUT = 120


def configure(project: Path, text: str) -> None:
    (project / ".zwarm" / "config.toml").write_text(text)


async def test_a_ray_session_streams_to_the_client_and_comes_back_as_a_change_set(
        cluster: Cluster, start_client: StartClient, project: Path, fake_clis: Path,
        scenario: Scenario) -> None:
    git_project(project)
    def turn(path: str, text: str) -> list[dict]:
        return [
            {"emit": {"type": "thread.started", "thread_id": "{thread_id}"}},
            {"write": path, "text": text},
            {"emit": {"type": "item.completed", "item": {"id": "m", "type": "agent_message",
                                                         "text": "done: {prompt}"}}},
            {"emit": {"type": "turn.completed", "usage": {"input_tokens": 3,
                                                          "output_tokens": 1}}},
        ]
    script = scenario(turn("app.py", "print('from the worker')\n"),
                      turn("notes.txt", "second turn\n"))
    configure(project, executor_toml(cluster, fake_clis.parent / "bin", script, fake_clis))
    client, updates = await start_client()
    started = await request(client, "zwarm/delegate", {"task": "remote edit", "executor": "ray",
                                                       "isolation": "worktree"})
    assert started["executor"] == "ray"
    session_id = started["sessionId"]
    await updates.until(lambda items: any(
        u.session.id == session_id and u.session.status == "completed" for u in items), TIMEOUT)
    pushed = [s.summary for u in updates.for_session(session_id) for s in u.new_steps
              if s.kind == "message"]
    assert pushed == ["done: remote edit"]  # reached the client once
    listed = await request(client, "zwarm/listSessions", {})
    [row] = [s for s in listed["sessions"] if s["id"] == session_id]
    assert row["executor"] == "ray" and "job zwarm-" in row["location"]
    # A second turn starts from the first one's result, on the cluster again.
    await request(client, "zwarm/converse", {"sessionId": session_id, "message": "more"})
    await updates.until(lambda items: any(
        u.session.id == session_id and u.session.turn == 2 and
        u.session.status == "completed" for u in items), TIMEOUT)
    changes = await request(client, "zwarm/sessionChanges", {"sessionId": session_id})
    by_path = {f["relPath"]: f for f in changes["files"]}
    assert sorted(by_path) == ["app.py", "notes.txt"]
    assert [h["turn"] for h in by_path["notes.txt"]["hunks"]] == [2]
    assert {h["state"] for f in changes["files"] for h in f["hunks"]} == {"pending"}
    assert (project / "app.py").read_text() == "print('app')\n"
    applied = await request(client, "zwarm/applyChanges", {"sessionId": session_id})
    assert applied["conflicts"] == [] and applied["applied"]
    assert (project / "app.py").read_text() == "print('from the worker')\n"
    assert (project / "notes.txt").read_text() == "second turn\n"


async def test_ending_a_ray_session_kills_it(cluster: Cluster, start_client: StartClient,
                                             project: Path, fake_clis: Path,
                                             scenario: Scenario, tmp_path: Path) -> None:
    git_project(project)
    script = scenario([
        {"emit": {"type": "thread.started", "thread_id": "{thread_id}"}},
        {"emit": {"type": "item.completed", "item": {"id": "m", "type": "agent_message",
                                                     "text": "working"}}},
        {"wait_for_file": str(tmp_path / "never")},
    ])
    configure(project, executor_toml(cluster, fake_clis.parent / "bin", script, kind="ray"))
    client, updates = await start_client()
    started = await request(client, "zwarm/delegate", {"task": "long", "isolation": "worktree"})
    assert started["executor"] == "ray"  # the default from [executor] kind
    session_id = started["sessionId"]
    await updates.until(lambda items: any(
        u.session.id == session_id and any(s.summary == "working" for s in u.new_steps)
        for u in items), TIMEOUT)
    ended = await request(client, "zwarm/endSession", {"sessionId": session_id}, timeout=60)
    assert ended["status"] == "killed"


async def test_an_unreachable_cluster_fails_the_delegate_with_a_clear_error(
        cluster: Cluster, start_client: StartClient, project: Path, fake_clis: Path) -> None:
    git_project(project)
    nobody = f"http://127.0.0.1:{free_ports(1)[0]}"
    configure(project, executor_toml(cluster, fake_clis.parent / "bin", address=nobody))
    client, _ = await start_client()
    with pytest.raises(JsonRpcException, match="cannot be reached"):
        await request(client, "zwarm/delegate", {"task": "x", "executor": "ray",
                                                 "isolation": "worktree"})


async def test_a_daemon_killed_mid_run_comes_back_to_every_remote_event_once(
        cluster: Cluster, start_client: StartClient, project: Path, fake_clis: Path,
        scenario: Scenario, tmp_path: Path) -> None:
    git_project(project)
    hold = tmp_path / "go on"
    script = scenario(held_turn(hold))
    configure(project, executor_toml(cluster, fake_clis.parent / "bin", script, fake_clis,
                                     kind="ray"))
    client, updates = await start_client()
    started = await request(client, "zwarm/delegate", {"task": "survive",
                                                       "isolation": "worktree"})
    session_id = started["sessionId"]
    await updates.until(lambda items: any(
        u.session.id == session_id and any(s.summary == "before" for s in u.new_steps)
        for u in items), TIMEOUT)
    daemon = client._server  # the daemon dies without a word; the job and relay go on
    assert daemon is not None
    os.kill(daemon.pid, signal.SIGKILL)
    await daemon.wait()
    hold.touch()
    again, updates_again = await start_client()
    await updates_again.until(lambda items: any(
        u.session.id == session_id and u.session.status == "completed" for u in items),
        TIMEOUT)
    trajectory = await request(again, "zwarm/getTrajectory", {"sessionId": session_id})
    said = [s["summary"] for s in trajectory["steps"] if s["kind"] == "message"]
    assert said == ["before", "after"]
