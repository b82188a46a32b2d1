"""Guards on the JSON-RPC byte stream, below pygls: a message over the size limit is
skipped (read and dropped in bounded chunks, so the stream stays in step) instead of
being buffered whole or killing the daemon, and a request sent without `params` gets
`null` params so it is answered (pygls would otherwise never reply)."""

from __future__ import annotations

import json
import logging
import re

from pygls.io_ import StdinAsyncReader

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 64 * 1024 * 1024
DROP_CHUNK = 1024 * 1024
CONTENT_LENGTH = re.compile(rb"^Content-Length: *(\d+)\r?\n$", re.IGNORECASE)
# What the oversized message becomes: a notification pygls ignores ($/ methods are optional).
DROPPED = b'{"jsonrpc": "2.0", "method": "$/zwarm/droppedMessage"}'


class GuardedReader:
    def __init__(self, inner: StdinAsyncReader):
        self.inner = inner
        self._skip = 0

    async def readline(self) -> bytes:
        line = await self.inner.readline()
        match = CONTENT_LENGTH.match(line)
        if match and int(match.group(1)) > MAX_MESSAGE_BYTES:
            self._skip = int(match.group(1))
            log.warning("dropping a %s-byte message (limit %d)", match.group(1),
                        MAX_MESSAGE_BYTES)
            return b"Content-Length: %d\r\n" % len(DROPPED)
        return line

    async def readexactly(self, n: int) -> bytes:
        if self._skip:
            remaining, self._skip = self._skip, 0
            while remaining:
                chunk = await self.inner.readexactly(min(remaining, DROP_CHUNK))
                if not chunk:
                    return b""
                remaining -= len(chunk)
            return DROPPED
        body = await self.inner.readexactly(n)
        return with_params(body)


def with_params(body: bytes) -> bytes:
    """A request without a `params` member, given `"params": null`."""
    if b'"params"' in body or b'"id"' not in body:
        return body
    try:
        message = json.loads(body)
    except ValueError:
        return body
    if isinstance(message, dict) and "method" in message and "id" in message \
            and "params" not in message:
        message["params"] = None
        return json.dumps(message).encode()
    return body
