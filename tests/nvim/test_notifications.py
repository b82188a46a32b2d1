"""vim.notify when a session completes or fails (the daemon's window/showMessage)."""

from __future__ import annotations

from tests.nvim.conftest import Nvim

ERROR, INFO = 4, 2  # vim.log.levels


def test_notify_on_failure_and_completion(nvim: Nvim) -> None:
    fails = [
        {"emit": {"type": "thread.started", "thread_id": "{thread_id}"}},
        {"emit": {"type": "turn.started"}},
        {"emit": {"type": "turn.failed", "error": {"message": "model is not available"}}},
        {"exit": 1},
    ]
    works = [
        {"emit": {"type": "thread.started", "thread_id": "{thread_id}"}},
        {"emit": {"type": "turn.started"}},
        {"emit": {"type": "item.completed", "item": {"id": "i1", "type": "agent_message",
                                                     "text": "all good"}}},
        {"emit": {"type": "turn.completed", "usage": {"input_tokens": 3, "output_tokens": 1}}},
    ]
    nvim.scenario(fails, works)
    result = nvim.run("notifications.lua")

    failed, completed = result["failed"], result["completed"]
    assert result["failing"]["shortId"] in failed["msg"]
    assert "model is not available" in failed["msg"]
    assert failed["level"] == ERROR
    assert result["failed_mark"]["row"] == 1 and result["failed_mark"]["hl"] == "ZwarmFailed"

    assert result["working"]["shortId"] in completed["msg"] and "all good" in completed["msg"]
    assert completed["level"] == INFO
    assert result["completed_mark"]["row"] == 5
    assert result["completed_mark"]["hl"] == "ZwarmCompleted"
