"""The Ray executor against a real local cluster, driven through the session service
(its index, change sets and apply), with the fake agent running on the worker node."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.conftest import Scenario
from tests.ray.conftest import Cluster, git_project, remote_env
from zwarm_ls.adapters import get_adapter
from zwarm_ls.config import ExecutorConfig
from zwarm_ls.executors import get_executor
from zwarm_ls.executors.ray import RayUnavailable
from zwarm_ls.protocol import ApplyChangesParams, SessionChangesParams, Status
from zwarm_ls.service import SessionService
from zwarm_ls.store import SessionMeta, TurnRecord, now_iso

TIMEOUT = 120


def executor_config(cluster: Cluster, fake_bin: Path, scenario: Path) -> ExecutorConfig:
    return ExecutorConfig(kind="ray", address=cluster.url, resources={"agent": 1},
                          runtime_env=remote_env(fake_bin, scenario))


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
        ray_cluster: Cluster, service: SessionService, project: Path, fake_bin: Path,
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
    config = executor_config(ray_cluster, fake_bin, script)
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
