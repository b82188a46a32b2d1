"""asyncio helpers the standard library lacks on Python 3.11.

The daemon bounds waits with `asyncio.timeout`, never `asyncio.wait_for`: on 3.11 a task
cancelled in the same turn as the awaited thing finishes gets its result from wait_for
and the cancel is lost (3.12 rewrote wait_for on top of timeout)."""

from __future__ import annotations

import asyncio


async def wait_event(event: asyncio.Event, timeout_s: float) -> bool:
    """Wait for `event` at most `timeout_s`; True if it was set.

    Not `asyncio.wait_for` around `event.wait()`: on 3.11, a task cancelled just as the event
    is set gets the event's result from wait_for and the cancellation is lost, so a loop
    around it never stops (it hung the daemon's shutdown). `asyncio.timeout` tells its
    own cancellation from the caller's."""
    try:
        async with asyncio.timeout(timeout_s):
            await event.wait()
    except TimeoutError:
        return False
    return True
