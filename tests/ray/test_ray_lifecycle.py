"""Remote turns and the index's liveness rules, against the real local cluster: a slow
launch is not mistaken for an abandoned one, and a relay that dies mid-run is replaced
by a new one on the same job (the daemon keeps running), with every event once."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.conftest import Scenario
from tests.ray.conftest import Cluster, git_project
from tests.ray.test_ray_executor import (
    eventually,
    executor_config,
    held_turn,
    messages,
    start_remote,
    until_done,
)
from zwarm_ls import index
from zwarm_ls.config import load_config
from zwarm_ls.protocol import Status
from zwarm_ls.runner import runner_alive
from zwarm_ls.service import SessionService
from zwarm_ls.store import read_json

HOLD_S = 3.0  # under the probe's 5 s timeout: slow, not dead


class SlowLink:
    """A loopback TCP relay to the cluster's dashboard whose first connection waits
    HOLD_S before it is forwarded: the daemon's view of a far or busy cluster."""

    def __init__(self, target: str):
        parsed = urlparse(target)
        self.host, self.port = parsed.hostname or "127.0.0.1", parsed.port or 80
        self.slow_left = 1
        self.held = asyncio.Event()  # set while the slow connection waits
        self.server: asyncio.Server | None = None
        self.writers: list[asyncio.StreamWriter] = []

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._connection, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def _connection(self, reader: asyncio.StreamReader,
                          writer: asyncio.StreamWriter) -> None:
        if self.slow_left > 0:
            self.slow_left -= 1
            self.held.set()
            await asyncio.sleep(HOLD_S)
            self.held.clear()
        up_reader, up_writer = await asyncio.open_connection(self.host, self.port)
        self.writers += [writer, up_writer]

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            with contextlib.suppress(OSError):
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
        for writer in self.writers:  # the relay's log tail may still be open
            writer.close()


@pytest.fixture
def fake_bin(fake_clis: Path) -> Path:
    return fake_clis.parent / "bin"


async def test_a_slow_remote_launch_is_not_failed_as_abandoned(
        cluster: Cluster, service: SessionService, project: Path, fake_bin: Path,
        scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """While one daemon launches a remote turn slowly, a second one on the same store (an
    editor window, `zwarm-ls sessions`) reads the pending turn from disk: it must see a
    launch in progress, not a turn whose daemon died before starting it."""
    git_project(project)
    # Any pending turn without a runner and without a launch in progress is abandoned at
    # once: the launch below takes longer than that "grace", as a far cluster would.
    monkeypatch.setattr(index, "LAUNCH_GRACE_S", 0.0)
    link = SlowLink(cluster.url)
    config = executor_config(cluster, fake_bin, scenario(held_turn(tmp_path / "go on")))
    config.address = await link.start()
    other = SessionService(load_config(project)[0])
    await other.start()  # learns of the session from the store's journal, like any daemon
    try:
        launching = asyncio.create_task(start_remote(service, config, "slow start"))
        await asyncio.wait_for(link.held.wait(), 30)
        session_id = next(s.id for s in service.index.summaries())
        paths = service.store.turn_paths(session_id, 1)
        looks = 0
        while link.held.is_set():
            await other.poke()
            await service.poke()
            assert not paths.exit.exists(), paths.exit.read_text()
            assert other.index.summary(session_id).status == Status.PENDING
            looks += 1
            await asyncio.sleep(0.2)
        assert looks >= 5  # the liveness rule (every 1 s) ran meanwhile
        assert await asyncio.wait_for(launching, 60) == session_id
        await eventually(lambda: messages(other, session_id) == ["before"])
        (tmp_path / "go on").touch()
        assert await until_done(other, session_id) == Status.COMPLETED
        assert await until_done(service, session_id) == Status.COMPLETED
        assert messages(service, session_id) == ["before", "after"]
    finally:
        await other.stop()
        await link.close()


async def test_a_killed_relay_is_replaced_while_the_daemon_runs(
        cluster: Cluster, service: SessionService, project: Path, fake_bin: Path,
        scenario: Scenario, tmp_path: Path) -> None:
    git_project(project)
    hold = tmp_path / "go on"
    config = executor_config(cluster, fake_bin, scenario(held_turn(hold)))
    session_id = await start_remote(service, config, "outlive the relay")
    await eventually(lambda: messages(service, session_id) == ["before"])
    paths = service.store.turn_paths(session_id, 1)
    relay = read_json(paths.run)
    assert relay is not None and relay.get("relay") and runner_alive(relay)
    os.kill(relay["pid"], signal.SIGKILL)  # only the relay: the daemon and the job go on

    def followed_again() -> bool:
        run = read_json(paths.run)
        return bool(run and run["pid"] != relay["pid"] and runner_alive(run))

    await eventually(followed_again, 60)
    assert not paths.exit.exists()
    assert service.index.summary(session_id).status == Status.RUNNING
    hold.touch()  # the agent finishes; only the new relay can bring that home
    assert await until_done(service, session_id) == Status.COMPLETED
    summary = service.index.summary(session_id)
    assert summary.error is None, summary.error
    assert messages(service, session_id) == ["before", "after"]
    events = paths.output.read_text().splitlines()
    assert len(events) == len(set(events)) == 4  # every agent line exactly once
    steps = service.index.steps(session_id)
    assert [s.index for s in steps] == list(range(len(steps)))
