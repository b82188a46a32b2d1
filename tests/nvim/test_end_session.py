"""`:Zwarm end` stops a running session: the agent dies and every view says killed."""

from __future__ import annotations

import os
import time

from tests.nvim.conftest import Nvim

KILL_GRACE_S = 30.0  # generous: a loaded machine may take a while to reap the group


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_end_kills_running_session(nvim: Nvim) -> None:
    never = nvim.tmp / "never-created"
    nvim.scenario([
        {"emit": {"type": "thread.started", "thread_id": "{thread_id}"}},
        {"emit": {"type": "turn.started"}},
        {"emit": {"type": "item.completed", "item": {"id": "i0", "type": "reasoning",
                                                     "text": "waiting forever"}}},
        {"wait_for_file": str(never)},
    ])
    result = nvim.run("end_session.lua")

    short = result["session"]["shortId"]
    assert short in result["completion"]
    assert result["mark"]["row"] == 1 and short in result["mark"]["text"]
    assert result["mark"]["hl"] == "ZwarmKilled"
    assert "killed" in result["trajectory_head"]
    assert any(short in n and "killed" in n for n in result.notifications())
    (call,) = nvim.invocations()
    deadline = time.monotonic() + KILL_GRACE_S
    while alive(call["pid"]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(call["pid"]), "the fake agent survived :Zwarm end"
