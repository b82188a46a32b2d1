"""The trajectory buffer: filled from renderTrajectory, updated live, buffer-local keys."""

from __future__ import annotations

from pathlib import Path

from tests.nvim.conftest import Nvim


def held_default_turn(release: Path) -> list[dict]:
    return [
        {"emit": {"type": "thread.started", "thread_id": "{thread_id}"}},
        {"emit": {"type": "turn.started"}},
        {"emit": {"type": "item.completed", "item": {"id": "i0", "type": "reasoning",
                                                     "text": "planning the change"}}},
        {"wait_for_file": str(release)},
        {"write": "hello.txt", "text": "hello\n"},
        {"emit": {"type": "item.completed", "item": {
            "id": "i1", "type": "command_execution", "command": "echo hello > hello.txt",
            "aggregated_output": "", "exit_code": 0, "status": "completed"}}},
        {"emit": {"type": "item.completed", "item": {"id": "i2", "type": "agent_message",
                                                     "text": "done: {prompt}"}}},
        {"emit": {"type": "turn.completed", "usage": {"input_tokens": 10, "output_tokens": 5}}},
    ]


def test_trajectory_buffer_fills_live(nvim: Nvim) -> None:
    release = nvim.tmp / "release"
    nvim.scenario(held_default_turn(release))
    result = nvim.run("trajectory.lua", ZWARM_RELEASE=str(release))

    assert result["name"].startswith("zwarm://trajectory/")
    assert result["filetype"] == "markdown" and result["modifiable"] is False
    running = "\n".join(result["running"])
    assert ": running" in running.splitlines()[0]
    assert "planning the change" in running and "echo hello" not in running
    completed = "\n".join(result["completed"])
    assert ": completed" in completed.splitlines()[0]
    assert "echo hello > hello.txt" in completed and "done: write hello.txt" in completed
    assert result["cursor_at_end"] is True
    # New steps were appended: the line of the step seen while running was kept.
    assert result["step_line_kept"] is True
    assert {"q", "c", "x", "r"} <= set(result["keys"])
    assert result["windows_closed"] == 1


def test_trajectory_keys_refresh_end_and_converse(nvim: Nvim) -> None:
    never = nvim.tmp / "never-created"
    first = [
        {"emit": {"type": "thread.started", "thread_id": "{thread_id}"}},
        {"emit": {"type": "turn.started"}},
        {"emit": {"type": "item.completed", "item": {"id": "i0", "type": "reasoning",
                                                     "text": "planning the change"}}},
        {"wait_for_file": str(never)},
    ]
    second = [
        {"emit": {"type": "thread.started", "thread_id": "{thread_id}"}},
        {"emit": {"type": "turn.started"}},
        {"emit": {"type": "item.completed", "item": {"id": "i3", "type": "agent_message",
                                                     "text": "done: {prompt}"}}},
        {"emit": {"type": "turn.completed", "usage": {"input_tokens": 3, "output_tokens": 1}}},
    ]
    nvim.scenario(first, second)
    result = nvim.run("trajectory_keys.lua")

    short = result["session"]["shortId"]
    assert result["refreshed"] is True
    assert ": killed" in result["killed_head"]
    assert result["prompts"] == [f"Message to {short}: "]
    assert result["converse"].startswith(f"{short}: turn 2")
    assert result["current"] is True
    # `x` killed the first agent; `c` resumed the same thread with the message.
    _first_call, second_call = nvim.invocations()
    assert "now say hi" in second_call["prompt"]
    assert "resume" in second_call["argv"]
