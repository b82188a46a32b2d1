"""Chaos: 100 sessions, and at a random moment of each (seeded) its runner, its agent or
the daemon following it is killed, or nothing happens. Afterwards, read by a fresh
daemon: every event the agent wrote is exactly one step, no session is left `running`,
and no process of any session is left alive."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
from pathlib import Path

from zwarm_ls.config import load_config
from zwarm_ls.protocol import DelegateParams, TrajectoryParams
from zwarm_ls.service import SessionService
from zwarm_ls.store import Store

SEED = 20261204
SESSIONS = 100
BATCH = 10
EVENTS = 6
SETTLE_S = 60


def turn(tag: str) -> list[dict]:
    message = {"type": "item.completed", "item": {"type": "agent_message", "text": ""}}
    steps: list[dict] = [{"emit": {"type": "thread.started", "thread_id": "T"}}]
    for i in range(EVENTS):
        event = json.loads(json.dumps(message))
        event["item"]["text"] = f"{tag}-{i}"
        steps += [{"emit": event}, {"sleep": 0.02}]
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


async def strike(store: Store, session_id: str, action: str, delay: float) -> None:
    await asyncio.sleep(delay)
    run_path = store.turn_paths(session_id, 1).run
    run = json.loads(run_path.read_text()) if run_path.exists() else None
    if run is None:
        return
    victims = {"runner": [run["pid"]], "agent": children(run["pid"])}.get(action, [])
    for pid in victims:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


async def test_nothing_lost_and_nothing_left_running(project: Path, fake_clis: Path,
                                                     scenario) -> None:
    rng = random.Random(SEED)
    config, _ = load_config(project)
    store = Store(project)
    plans: dict[str, str] = {}
    for first in range(0, SESSIONS, BATCH):
        daemon = SessionService(config)
        await daemon.start()
        strikes = []
        for n in range(first, first + BATCH):
            scenario(turn(f"s{n}"))
            started = await daemon.delegate(DelegateParams(task=f"chaos {n}"))
            action = rng.choice(["runner", "agent", "daemon", "none"])
            plans[started.session_id] = action
            strikes.append(strike(store, started.session_id, action, rng.uniform(0, 0.15)))
        await asyncio.gather(*strikes)
        # The daemon that started them goes away while most still run (for the sessions
        # whose strike is "daemon" that is the whole plan); a fresh one follows later.
        await daemon.stop()

    follower = SessionService(config)
    await follower.start()
    try:
        async def settled() -> None:
            while any(s.status.is_active for s in follower.index.summaries()):
                await asyncio.sleep(0.1)
        await asyncio.wait_for(settled(), SETTLE_S)

        for session_id, action in plans.items():
            paths = store.turn_paths(session_id, 1)
            written = [json.loads(line) for line in paths.output.read_bytes().splitlines()
                       if line.strip()]
            texts = [e["item"]["text"] for e in written if e.get("type") == "item.completed"]
            steps = (await follower.trajectory(TrajectoryParams(session_id=session_id))).steps
            messages = [s.summary for s in steps if s.kind == "message"]
            assert messages == texts, (action, messages, texts)  # each once, in order
            assert [s.index for s in steps] == list(range(len(steps)))
            summary = follower.index.summary(session_id)
            assert not summary.status.is_active, (action, summary)
            if action == "none":
                assert summary.status == "completed" and len(texts) == EVENTS
            run = json.loads(paths.run.read_text())
            assert not group_alive(run["pgid"]), (action, session_id)
    finally:
        await follower.stop()
