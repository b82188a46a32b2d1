"""Chaos: 100 sessions delegated through the real daemon (stdio) in rounds of ten. At a
random moment of each (seeded) its runner or its agent is SIGKILLed, or nothing; in half
the rounds the stdio daemon serving it is SIGKILLed too (possibly mid-request, between
writing meta.json and starting a runner), while a second, in-process daemon follows the
store and is stopped at a random moment. Afterwards a fresh daemon settles what is left.
Then, for every session on disk: each event the agent wrote is exactly one step, in order;
no session is pending or running; no process of any session is alive; and a session
nobody struck completed."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.lsp_helpers import SERVER
from zwarm_ls import index
from zwarm_ls.config import load_config
from zwarm_ls.protocol import TrajectoryParams
from zwarm_ls.service import SessionService
from zwarm_ls.store import Store

SEED = 20261204
ROUNDS = 10
PER_ROUND = 10
EVENTS = 4
SETTLE_S = 60
ROUND_LIMIT_S = 120  # a round takes a few seconds: past this, something hangs


class StdioDaemon:
    """`zwarm-ls serve` with the smallest JSON-RPC client that works: unlike a full LSP
    test client it does not mind its server being SIGKILLed with requests in flight
    (they fail with ConnectionError)."""

    def __init__(self, proc: asyncio.subprocess.Process):
        self.proc = proc
        self.next_id = 0
        self.pending: dict[int, asyncio.Future[Any]] = {}
        self.reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, project: Path, log: Path) -> StdioDaemon:
        with open(log, "ab") as stderr:
            proc = await asyncio.create_subprocess_exec(
                *SERVER, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                stderr=stderr, env=dict(os.environ))
        daemon = cls(proc)
        await daemon.request("initialize", {"processId": os.getpid(), "capabilities": {},
                                            "rootUri": project.as_uri()})
        daemon._send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        return daemon

    def _send(self, message: dict) -> None:
        assert self.proc.stdin is not None
        body = json.dumps(message).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

    async def request(self, method: str, params: dict) -> Any:
        if self.reader.done():
            raise ConnectionError("the daemon is gone")
        self.next_id += 1
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pending[self.next_id] = future
        try:
            self._send({"jsonrpc": "2.0", "id": self.next_id, "method": method,
                        "params": params})
        except (ConnectionError, RuntimeError) as exc:
            raise ConnectionError("the daemon is gone") from exc
        return await future

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        try:
            while True:
                header = await self.proc.stdout.readuntil(b"\r\n\r\n")
                length = int(header.split(b"Content-Length:")[1].split(b"\r\n")[0])
                message = json.loads(await self.proc.stdout.readexactly(length))
                if "method" in message:  # a request of the server's own: accept it
                    if "id" in message:
                        self._send({"jsonrpc": "2.0", "id": message["id"], "result": None})
                    continue
                future = self.pending.pop(message["id"], None)
                if future is not None and not future.done():
                    if "error" in message:
                        future.set_exception(RuntimeError(message["error"]["message"]))
                    else:
                        future.set_result(message["result"])
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        except Exception as exc:
            print(f"chaos client: {exc!r}")
        finally:
            for future in self.pending.values():
                if not future.done():
                    future.set_exception(ConnectionError("the daemon is gone"))

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()

    async def close(self) -> None:
        if self.proc.returncode is None:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await asyncio.wait_for(self.request("shutdown", {}), 30)
                self._send({"jsonrpc": "2.0", "method": "exit"})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.proc.wait(), 10)
            self.kill()
        await self.proc.wait()
        await self.reader


def agent_turn(tag: str) -> list[dict]:
    steps: list[dict] = [{"emit": {"type": "thread.started", "thread_id": "{thread_id}"}}]
    for i in range(EVENTS):
        steps += [{"emit": {"type": "item.completed",
                            "item": {"type": "agent_message", "text": f"{tag}-{i}"}}},
                  {"sleep": 0.06}]
    return [*steps, {"emit": {"type": "turn.completed", "usage": {"input_tokens": 1}}}]


def group_alive(pgid: int) -> bool:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rfind(")") + 2:].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                return True
    return False


def children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


async def later(delay: float, action: Callable[[], object]) -> None:
    await asyncio.sleep(delay)
    result = action()
    if asyncio.iscoroutine(result):
        await result


async def strike_session(store: Store, delegated: asyncio.Task, action: str,
                         delay: float) -> None:
    """SIGKILL the runner or the agent of the session `delegated` starts, `delay` s after
    its runner is up."""
    try:
        session_id = (await delegated)["sessionId"]
    except Exception:
        return  # its daemon was killed before it answered
    await asyncio.sleep(delay)
    run_path = store.turn_paths(session_id, 1).run
    run = json.loads(run_path.read_text()) if run_path.exists() else None
    if run is None:
        return
    victims = [run["pid"]] if action == "runner" else children(run["pid"])
    for pid in victims:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


async def test_nothing_lost_and_nothing_left_running(project: Path, fake_clis: Path, scenario,
                                                     tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(SEED)
    scenario(agent_turn("m"))
    config, _ = load_config(project)
    store = Store(project)
    untouched: list[asyncio.Task] = []  # delegates nobody struck

    for _ in range(ROUNDS):
        daemon = await StdioDaemon.start(project, tmp_path / "daemon.log")
        follower = SessionService(config)
        await follower.start()
        work = []
        if rng.random() < 0.5:  # this round's daemon dies at a random moment
            work.append(asyncio.create_task(later(rng.uniform(0, 1.5), daemon.kill)))
        for n in range(PER_ROUND):
            delegated = asyncio.create_task(daemon.request("zwarm/delegate",
                                                           {"task": f"chaos {n}"}))
            action = rng.choice(["runner", "agent", "none"])
            if action == "none":
                untouched.append(delegated)
            else:
                work.append(strike_session(store, delegated, action, rng.uniform(0, 0.3)))
            work.append(delegated)
            await asyncio.sleep(rng.uniform(0, 0.05))
        work.append(later(rng.uniform(0, 2.0), follower.stop))
        async with asyncio.timeout(ROUND_LIMIT_S):  # a hang fails here, with its round
            await asyncio.gather(*work, return_exceptions=True)
        await daemon.close()

    # Every daemon that could have been starting a runner is gone: a pending turn without
    # one is abandoned now, not after the grace a live daemon would be given.
    monkeypatch.setattr(index, "LAUNCH_GRACE_S", 0.0)
    final = SessionService(config)
    await final.start()
    try:
        async def settled() -> None:
            while any(s.status.is_active for s in final.index.summaries()):
                await asyncio.sleep(0.1)
        await asyncio.wait_for(settled(), SETTLE_S)

        sessions = [s for s in final.index.summaries()]
        assert len(sessions) >= ROUNDS  # every round delegated something before any kill
        for summary in sessions:
            assert not summary.status.is_active, summary
            paths = store.turn_paths(summary.id, 1)
            lines = paths.output.read_bytes().splitlines() if paths.output.exists() else []
            texts = [json.loads(line)["item"]["text"] for line in lines
                     if b'"item.completed"' in line]
            steps = (await final.trajectory(TrajectoryParams(session_id=summary.id))).steps
            assert [s.summary for s in steps if s.kind == "message"] == texts, summary
            assert [s.index for s in steps] == list(range(len(steps)))
            run = json.loads(paths.run.read_text()) if paths.run.exists() else None
            assert run is None or not group_alive(run["pgid"]), summary
        # The strikes landed: some turns were cut short by a killed runner or an agent
        # killed under its runner. (A daemon dying between meta.json and the runner is
        # luck here; tests/test_hardening_store.py makes that case on purpose.)
        errors = [s.error or "" for s in sessions]
        assert any(e.startswith(("the runner of this turn was killed", "codex exited with code"))
                   for e in errors), errors
        for delegated in untouched:
            if delegated.exception() is None:  # it reached its runner: nothing stopped it
                summary = final.index.summary(delegated.result()["sessionId"])
                assert summary.status == "completed" and summary.step_count == EVENTS + 1
    finally:
        await final.stop()
