"""The watch loop's wait: a cancellation that lands as the event is set still cancels."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from zwarm_ls.aio import wait_event


async def watch_loop(event: asyncio.Event) -> None:
    while True:  # the shape of the daemon's watch loop
        await wait_event(event, 10)
        event.clear()


async def test_a_cancel_as_the_event_is_set_ends_the_loop() -> None:
    event = asyncio.Event()
    loop = asyncio.create_task(watch_loop(event))
    await asyncio.sleep(0)  # the loop is waiting
    event.set()  # the event wakes it in the same turn of the event loop...
    loop.cancel()  # ...as the cancel arrives (asyncio.wait_for on 3.11 loses this one)
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(loop, 5)


async def test_wait_event_says_whether_the_event_came() -> None:
    event = asyncio.Event()
    assert await wait_event(event, 0.01) is False
    event.set()
    assert await wait_event(event, 0.01) is True


def test_the_package_bounds_waits_with_asyncio_timeout() -> None:
    """The same loss of a cancel hides in every `asyncio.wait_for` on 3.11 (a run cancelled
    as its tool finished would go on to the next step): the package uses asyncio.timeout."""
    package = Path(__file__).resolve().parents[1] / "zwarm_ls"
    users = [str(path.relative_to(package)) for path in sorted(package.rglob("*.py"))
             if re.search(r"\bwait_for\(", path.read_text(encoding="utf-8"))]
    assert users == []
