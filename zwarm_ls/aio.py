"""asyncio helpers the standard library lacks on Python 3.11."""

from __future__ import annotations

import asyncio


async def wait_event(event: asyncio.Event, timeout_s: float) -> bool:
    """Wait for `event` at most `timeout_s`; True if it was set.

    Not `asyncio.wait_for(event.wait(), …)`: on 3.11, a task cancelled just as the event
    is set gets the event's result from wait_for and the cancellation is lost, so a loop
    around it never stops (it hung the daemon's shutdown). `asyncio.timeout` tells its
    own cancellation from the caller's."""
    try:
        async with asyncio.timeout(timeout_s):
            await event.wait()
    except TimeoutError:
        return False
    return True
