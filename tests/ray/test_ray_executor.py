"""The Ray executor against a real local cluster, driven through the session service
(its index, change sets and apply), with the fake agent running on the worker node."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Scenario
from tests.ray.conftest import Cluster, git_project, remote_env
from zwarm_ls.adapters import get_adapter
from zwarm_ls.config import ExecutorConfig, load_config
from zwarm_ls.executors import get_executor
from zwarm_ls.executors.ray import RayUnavailable, check_cluster, recover
from zwarm_ls.protocol import ApplyChangesParams, SessionChangesParams, Status
from zwarm_ls.service import SessionService
from zwarm_ls.store import SessionMeta, TurnRecord, now_iso, read_json

TIMEOUT = 120


def executor_config(cluster: Cluster, fake_bin: Path, scenario: Path,
                    log: Path | None = None) -> ExecutorConfig:
    return ExecutorConfig(kind="ray", address=cluster.url, resources={"agent": 1},
                          runtime_env=remote_env(fake_bin, scenario, log))


def held_turn(hold: Path) -> list[dict]:
    """A turn that says something, then waits for `hold` to exist, then finishes."""
    return [
        {"emit": {"type": "thread.started", "thread_id": "{thread_id}"}},
        {"emit": {"type": "item.completed", "item": {"id": "a", "type": "agent_message",
                                                     "text": "before"}}},
        {"wait_for_file": str(hold)},
        {"emit": {"type": "item.completed", "item": {"id": "b", "type": "agent_message",
                                                     "text": "after"}}},
        {"emit": {"type": "turn.completed", "usage": {"input_tokens": 1, "output_tokens": 1}}},
    ]


def environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


def agents_running(log: Path) -> list[int]:
    """Fake agents of this test still alive, found by their FAKE_AGENT_LOG."""
    marker = f"FAKE_AGENT_LOG={log}".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "environ").read_bytes().split(b"\0"):
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


async def eventually(predicate: Callable[[], bool], timeout: float = TIMEOUT) -> None:
    async def poll() -> None:
        while not predicate():
            await asyncio.sleep(0.1)
    await asyncio.wait_for(poll(), timeout)


def messages(service: SessionService, session_id: str) -> list[str]:
    return [s.summary for s in service.index.steps(session_id) if s.kind == "message"]


async def start_remote(service: SessionService, config: ExecutorConfig, task: str) -> str:
    """What `zwarm/delegate` with `executor: "ray"` does (until the service routes it)."""
    store = service.store
    session_id = store.new_id()
    scope, agent_dir = await asyncio.to_thread(service.review.prepare, session_id,
                                               service.config.root, "worktree")
    now = now_iso()
    meta = SessionMeta(id=session_id, task=task, status="pending", working_dir=str(agent_dir),
                       created_at=now, updated_at=now, model="m", turn=1, adapter="codex",
                       messages=[{"role": "user", "content": task}], turns=[TurnRecord(turn=1)],
                       change_set=service.review.scope_record(scope), executor="ray")
    store.create(meta)
    service.index.put_meta(meta)
    adapter = get_adapter("codex")
    argv = adapter.command(service.config.codex, model="m", working_dir=meta.working_dir,
                           resume_id=None)
    await asyncio.to_thread(get_executor("ray", config).launch, store, meta, 1, task, argv,
                            adapter.env(service.config.codex))
    await service.poke()
    return session_id


async def until_done(service: SessionService, session_id: str) -> Status:
    async def wait() -> Status:
        while (status := service.index.summary(session_id).status).is_active:
            await asyncio.sleep(0.1)
        return status
    return await asyncio.wait_for(wait(), TIMEOUT)


@pytest.fixture
def fake_bin(fake_clis: Path) -> Path:
    return fake_clis.parent / "bin"


async def test_remote_turn_streams_completes_and_its_change_set_applies(
        cluster: Cluster, service: SessionService, project: Path, fake_bin: Path,
        scenario: Scenario) -> None:
    git_project(project)
    script = scenario([
        {"emit": {"type": "thread.started", "thread_id": "{thread_id}"}},
        {"emit": {"type": "item.completed", "item": {"id": "r", "type": "reasoning",
                                                     "text": "on the worker"}}},
        {"write": "app.py", "text": "print('app, changed remotely')\n"},
        {"write": "new.txt", "text": "made on the worker\n"},
        {"garbage": 16},
        {"emit": {"type": "item.completed", "item": {"id": "m", "type": "agent_message",
                                                     "text": "done: {prompt}"}}},
        {"emit": {"type": "turn.completed", "usage": {"input_tokens": 10,
                                                      "output_tokens": 2}}},
    ])
    config = executor_config(cluster, fake_bin, script)
    session_id = await start_remote(service, config, "change app.py")
    assert await until_done(service, session_id) == Status.COMPLETED
    summary = service.index.summary(session_id)
    assert summary.executor == "ray"
    assert summary.location and "job zwarm-" in summary.location
    steps = service.index.steps(session_id)
    assert [s.kind for s in steps if s.kind in ("reasoning", "message")] == \
        ["reasoning", "message"]
    assert steps[-2].summary.startswith("done: change app.py") or \
        any("done: change app.py" in (s.summary or "") for s in steps)
    # The user's files are untouched until the change set is applied.
    assert (project / "app.py").read_text() == "print('app')\n"
    changes = await service.review.session_changes(SessionChangesParams(session_id=session_id))
    assert sorted(f.rel_path for f in changes.files) == ["app.py", "new.txt"]
    assert all(h.state == "pending" for f in changes.files for h in f.hunks)
    await service.review.apply_changes(ApplyChangesParams(session_id=session_id))
    assert (project / "app.py").read_text() == "print('app, changed remotely')\n"
    assert (project / "new.txt").read_text() == "made on the worker\n"


async def test_an_unreachable_cluster_is_a_clear_error(service: SessionService, project: Path,
                                                       fake_bin: Path, scenario: Scenario
                                                       ) -> None:
    git_project(project)
    from tests.ray.conftest import free_ports

    nobody = f"http://127.0.0.1:{free_ports(1)[0]}"
    config = ExecutorConfig(kind="ray", address=nobody)
    with pytest.raises(RayUnavailable, match="cannot be reached"):
        await asyncio.wait_for(start_remote(service, config, "x"), 30)


async def test_ending_a_remote_turn_stops_the_agent_on_the_worker(
        cluster: Cluster, service: SessionService, project: Path, fake_bin: Path,
        fake_clis: Path, scenario: Scenario, tmp_path: Path) -> None:
    git_project(project)
    config = executor_config(cluster, fake_bin, scenario(held_turn(tmp_path / "never")),
                             fake_clis)
    session_id = await start_remote(service, config, "hold on")
    await eventually(lambda: messages(service, session_id) == ["before"])
    assert agents_running(fake_clis), "the agent should be running on the worker"
    agents = [pid for pid in agents_running(fake_clis)  # not the job's driver: the CLI
              if b"codex" in Path(f"/proc/{pid}/cmdline").read_bytes()]
    assert agents
    for pid in agents:  # it carries its session and turn, as on the daemon's machine
        assert (environ(pid)["ZWARM_LS_SESSION_ID"], environ(pid)["ZWARM_LS_TURN"]) == \
            (session_id, "1")
    meta = service.index.meta(session_id)
    assert await asyncio.to_thread(get_executor("ray", config).terminate, service.store, meta, 1)
    assert await until_done(service, session_id) == Status.KILLED
    await eventually(lambda: not agents_running(fake_clis))


async def test_a_restarted_daemon_and_a_new_relay_reattach_by_submission_id(
        cluster: Cluster, service: SessionService, project: Path, fake_bin: Path,
        scenario: Scenario, tmp_path: Path) -> None:
    git_project(project)
    hold = tmp_path / "go on"
    config = executor_config(cluster, fake_bin, scenario(held_turn(hold)))
    session_id = await start_remote(service, config, "survive")
    await eventually(lambda: messages(service, session_id) == ["before"])
    await service.stop()  # the daemon goes ...
    paths = service.store.turn_paths(session_id, 1)
    relay = read_json(paths.run)
    assert relay is not None
    os.kill(relay["pid"], signal.SIGKILL)  # ... and so does the relay of the turn
    await eventually(lambda: not Path(f"/proc/{relay['pid']}").exists())
    hold.touch()  # the agent goes on while nobody follows it
    assert recover(service.store) == [session_id]
    config_now, _ = load_config(project)
    restarted = SessionService(config_now)
    await restarted.start()
    try:
        assert await until_done(restarted, session_id) == Status.COMPLETED
        assert messages(restarted, session_id) == ["before", "after"]
        events = paths.output.read_text().splitlines()
        assert len(events) == len(set(events)) == 4  # every agent line exactly once
    finally:
        await restarted.stop()


async def test_the_cluster_check_names_what_a_worker_lacks(cluster: Cluster,
                                                           fake_clis: Path) -> None:
    fake_bin = fake_clis.parent / "bin"
    good = await asyncio.to_thread(check_cluster, cluster.url, {"agent": 1},
                                   remote_env(fake_bin))
    assert good == []
    bare = {"env_vars": {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"}}
    lacking = await asyncio.to_thread(check_cluster, cluster.url, {"agent": 1}, bare)
    assert any("codex CLI is not on the worker's PATH" in p for p in lacking), lacking
    [unreachable] = await asyncio.to_thread(check_cluster, "http://127.0.0.1:9")
    assert "cannot be reached" in unreachable


async def test_losing_the_worker_node_fails_the_session_with_the_reason(
        cluster: Cluster, service: SessionService, project: Path, fake_bin: Path,
        scenario: Scenario, tmp_path: Path) -> None:
    """Last in this file: the worker is gone afterwards."""
    git_project(project)
    config = executor_config(cluster, fake_bin, scenario(held_turn(tmp_path / "never")))
    session_id = await start_remote(service, config, "doomed")
    await eventually(lambda: messages(service, session_id) == ["before"])
    cluster.kill_worker()
    assert await until_done(service, session_id) == Status.FAILED
    error = service.index.summary(session_id).error or ""
    assert "Ray job failed" in error, error
