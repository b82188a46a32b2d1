"""Guards on the JSON-RPC byte stream, below pygls: a message over the size limit is
skipped (read and dropped in bounded chunks, so the stream stays in step) instead of
being buffered whole or killing the daemon, and a request sent without `params` gets
`null` params so it is answered (pygls would otherwise never reply)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
from pathlib import Path
from typing import Any

from pygls.io_ import run_async

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 64 * 1024 * 1024
DROP_CHUNK = 1024 * 1024
CONTENT_LENGTH = re.compile(rb"^Content-Length: *(\d+)\r?\n$", re.IGNORECASE)
# What the oversized message becomes: a notification pygls ignores ($/ methods are optional).
DROPPED = b'{"jsonrpc": "2.0", "method": "$/zwarm/droppedMessage"}'


class GuardedReader:
    def __init__(self, inner: Any):  # pygls' stdin reader, or an asyncio.StreamReader
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


TOKEN_ENV = "ZWARM_LS_TOKEN"


class TokenError(ValueError):
    pass


def read_token(token_file: str | None) -> str | None:
    """The TCP token: from a file only its owner can read, or from ZWARM_LS_TOKEN; never
    from the command line, where every local user can read it in /proc."""
    if token_file:
        path = Path(token_file)
        try:
            mode = path.stat().st_mode
        except OSError as exc:
            raise TokenError(f"cannot read the token file: {exc}") from None
        if mode & 0o077:
            raise TokenError(f"{path} is readable by others: chmod 600 it")
        token = path.read_text(encoding="utf-8").strip()
        if not token:
            raise TokenError(f"{path} is empty")
        return token
    return os.environ.get(TOKEN_ENV) or None


BUSY = json.dumps({"jsonrpc": "2.0", "id": None, "error": {
    "code": -32600, "message": "zwarm-ls already serves an editor on this port; start "
    "another daemon (each editor gets its own) or use stdio"}}).encode()


class TcpHost:
    """One client at a time on a TCP port, each authenticated on its own; a connection
    that closes (even before saying anything) ends only itself, and the daemon waits for
    the next one. A second client while one is connected is refused with a clear error."""

    def __init__(self, ls: Any):
        self.ls = ls
        self.busy = False

    async def connection(self, reader: asyncio.StreamReader,
                         writer: asyncio.StreamWriter) -> None:
        if self.busy:
            writer.write(b"Content-Length: %d\r\n\r\n" % len(BUSY) + BUSY)
            with contextlib.suppress(ConnectionError):
                await writer.drain()
            writer.close()
            return
        self.busy = True
        self.ls.begin_connection()
        self.ls.protocol.set_writer(writer)
        try:
            await run_async(stop_event=self.ls._stop_event, reader=GuardedReader(reader),
                            protocol=self.ls.protocol, logger=log,
                            error_handler=self.ls.report_server_error)
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            log.info("the TCP client went away: %s", exc)
        finally:
            writer.close()
            await self.ls.end_connection()
            self.busy = False

    async def serve(self, host: str, port: int) -> None:
        server = await asyncio.start_server(self.connection, host, port)
        log.info("serving on %s", ", ".join(str(s.getsockname()) for s in server.sockets))
        async with server:
            await server.serve_forever()
