"""Guards on the JSON-RPC byte stream, below pygls: a message over the size limit is
skipped (read and dropped in bounded chunks, so the stream stays in step) instead of
being buffered whole or killing the daemon, and a request sent without `params` gets
`null` params so it is answered (pygls would otherwise never reply). And the TCP side:
the token, and one language server per connection. Outgoing, results and notification
params already encoded (`RawJson`) are spliced into the message as they are."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import os
import queue
import re
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

from lsprotocol.types import EXIT
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.io_ import run_async
from pygls.protocol import LanguageServerProtocol

from .protocol import RawJson

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 64 * 1024 * 1024
DROP_CHUNK = 1024 * 1024
CONTENT_LENGTH = re.compile(rb"^Content-Length: *(\d+)\r?\n$", re.IGNORECASE)
# What the oversized message becomes: a notification pygls ignores ($/ methods are optional).
DROPPED = b'{"jsonrpc": "2.0", "method": "$/zwarm/droppedMessage"}'


class RawJsonProtocol(LanguageServerProtocol):
    """pygls' protocol, except that a result or notification params that are `RawJson` go
    out as they are: a list of 1,000 sessions is joined from cached summary JSON, and
    decoding it only for pygls to encode it again would cost more than all the rest."""

    def _send_data(self, data: Any) -> None:
        raw, key = _raw_part(data)
        if raw is None or self.writer is None:
            super()._send_data(data)
            return
        head = {"jsonrpc": "2.0"}
        head.update({"id": data.id} if key == "result" else {"method": data.method})
        body = (json.dumps(head)[:-1] + f', "{key}": ').encode() + raw.utf8 + b"}"
        header = (f"Content-Length: {len(body)}\r\n"
                  f"Content-Type: {self.CONTENT_TYPE}; charset={self.CHARSET}\r\n\r\n")
        try:
            written = self.writer.write(header.encode() + body if self._include_headers
                                        else body)
            if inspect.isawaitable(written):  # an async writer (TCP): keep the task alive
                task = asyncio.ensure_future(written)
                _WRITES.add(task)
                task.add_done_callback(_WRITES.discard)
        except BrokenPipeError:
            log.error("the client went away while a reply was being sent")
            raise


_WRITES: set[asyncio.Future[Any]] = set()


def _raw_part(data: Any) -> tuple[str | None, str]:
    """The pre-encoded part of an outgoing message and its key, if it has one."""
    result = getattr(data, "result", None)
    if isinstance(result, RawJson):
        return result, "result"
    params = getattr(data, "params", None)
    if isinstance(params, RawJson) and hasattr(data, "method"):
        return params, "params"
    return None, ""


class ThreadedWriter:
    """pygls' writer interface over a stream written by a thread of its own: a client that
    is slow to read a large reply (or stops reading) fills the pipe without blocking the
    event loop, so notifications to it and work for everyone else go on. Messages keep
    their order; `close` sends what is queued first."""

    def __init__(self, stream: Any):
        self._stream = stream
        self._queue: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="zwarm-stdout", daemon=True)
        self._thread.start()

    def write(self, data: bytes) -> None:
        self._queue.put(data)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=5)
        with contextlib.suppress(OSError, ValueError):
            self._stream.close()

    def _run(self) -> None:
        closing = False
        while not closing:
            batch = [self._queue.get()]
            while not self._queue.empty():  # what queued meanwhile goes in one write
                batch.append(self._queue.get_nowait())
            closing = None in batch
            try:
                self._stream.write(b"".join(d for d in batch if d is not None))
                self._stream.flush()
            except (OSError, ValueError):  # the client went away: drop the rest
                log.error("the client went away; dropping what was left to send")
                return
            except Exception:  # never let one bad write end every later reply
                log.exception("writing to the client failed; going on")


MAX_HEADER_LINE = 64 * 1024
# What a header line over the bound becomes: a header that means nothing to pygls.
LONG_LINE = b"X-Zwarm-Dropped: a header line over the limit\r\n"


class StdinReader:
    """pygls' stdin reader with a bound on header lines: a line without an end (or over
    64 KiB) is read and dropped in bounded pieces instead of growing until memory ends."""

    def __init__(self, stdin: Any, executor: Any = None):
        self.stdin = stdin
        self.executor = executor

    def readline(self) -> Awaitable[bytes]:
        return asyncio.get_running_loop().run_in_executor(self.executor, self._readline)

    def readexactly(self, n: int) -> Awaitable[bytes]:
        return asyncio.get_running_loop().run_in_executor(self.executor, self.stdin.read, n)

    def _readline(self) -> bytes:
        line = self.stdin.readline(MAX_HEADER_LINE)
        if len(line) < MAX_HEADER_LINE or line.endswith(b"\n"):
            return line
        while line and not line.endswith(b"\n"):
            line = self.stdin.readline(MAX_HEADER_LINE)
        log.warning("dropped a header line over %d bytes", MAX_HEADER_LINE)
        return LONG_LINE if line else b""


class PipeReader:
    """stdin read by the event loop itself, when it is a pipe or socket (as editors start
    the daemon): a request's header and body usually come in one read, and are then served
    from the buffer, instead of one thread hand-off per header line and per body. The same
    bound on header lines as StdinReader."""

    def __init__(self, stream: asyncio.StreamReader):
        self.stream = stream

    @classmethod
    async def connect(cls, stdin: Any) -> PipeReader | None:
        """A reader on `stdin`, or None when the loop cannot watch it (a regular file)."""
        stream = asyncio.StreamReader(limit=MAX_HEADER_LINE)
        try:
            await asyncio.get_running_loop().connect_read_pipe(
                lambda: asyncio.StreamReaderProtocol(stream), stdin)
        except (OSError, ValueError):
            return None
        return cls(stream)

    async def readline(self) -> bytes:
        dropped = False
        while True:
            try:
                line = await self.stream.readuntil(b"\n")
            except asyncio.IncompleteReadError as exc:
                return b"" if dropped else exc.partial  # the end of the stream
            except asyncio.LimitOverrunError as exc:  # no end in sight: drop what is there
                await self.stream.readexactly(exc.consumed)
                dropped = True
                continue
            if dropped:
                log.warning("dropped a header line over %d bytes", MAX_HEADER_LINE)
                return LONG_LINE
            return line

    async def readexactly(self, n: int) -> bytes:
        try:
            return await self.stream.readexactly(n)
        except asyncio.IncompleteReadError as exc:
            return exc.partial


class GuardedReader:
    """What pygls reads: oversized messages dropped, and every request answered — one
    without `params` gets null params, and one whose params pygls cannot read (a code
    action without a range, a command without a name) gets its error here, since pygls
    would only log it and leave the client waiting."""

    def __init__(self, inner: Any, protocol: Any):  # pygls' reader or a StreamReader
        self.inner = inner
        self.protocol = protocol
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
        return self.checked(body)

    def checked(self, body: bytes) -> bytes:
        if b'"id"' not in body or b'"method"' not in body:
            return body  # not a request (notifications are most of the traffic)
        try:
            message = json.loads(body)
        except ValueError:
            return body
        if not (isinstance(message, dict) and "method" in message and "id" in message):
            return body
        if "params" not in message:
            message["params"] = None
            body = json.dumps(message).encode()
        try:
            self.protocol.structure_message(message)
        except JsonRpcException:
            msg_id = message["id"] if isinstance(message["id"], int | str) else None
            error = JsonRpcInvalidParams(f"invalid params for {str(message['method'])[:100]}: "
                                         "see the LSP specification")
            self.protocol._send_response(msg_id, error=error.to_response_error())
            return DROPPED
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
        if path.stat().st_uid != os.getuid():
            raise TokenError(f"{path} belongs to another user")
        token = path.read_text(encoding="utf-8").strip()
        if not token:
            raise TokenError(f"{path} is empty")
        return token
    return os.environ.get(TOKEN_ENV) or None


MAX_CONNECTIONS = 32
BUSY = json.dumps({"jsonrpc": "2.0", "id": None, "error": {
    "code": -32600, "message": f"zwarm-ls already serves {MAX_CONNECTIONS} clients on this "
    "port; close one, or start another daemon"}}).encode()


class ConnectionServer(Protocol):
    """What the TCP host needs of the language server it makes for each connection."""

    protocol: Any
    _stop_event: threading.Event

    def report_server_error(self, error: Exception, source: Any) -> None: ...

    async def end_connection(self) -> None: ...

    def shutdown(self) -> None: ...


def copy_features(template: Any, target: Any) -> None:
    """Register on `target` every feature and command of `template` (pygls binds each
    handler to the one server it was registered on, so a fresh server for a connection
    gets the same handlers bound to itself)."""
    fm = template.protocol.fm
    for name, handler in fm.features.items():
        target.feature(name, fm.feature_options.get(name))(getattr(handler, "func", handler))
    for name, handler in fm.commands.items():
        target.command(name)(getattr(handler, "func", handler))


class TcpHost:
    """Serves every TCP client with a language server of its own, made by `make_server`:
    its own protocol (so its replies go to it alone), authentication, session service and
    orchestrator runs. A connection that closes, even before saying anything, or that
    sends `exit`, ends only itself; the daemon serves on."""

    def __init__(self, make_server: Callable[[], ConnectionServer]):
        self.make_server = make_server
        self.connections = 0

    async def connection(self, reader: asyncio.StreamReader,
                         writer: asyncio.StreamWriter) -> None:
        if self.connections >= MAX_CONNECTIONS:
            writer.write(b"Content-Length: %d\r\n\r\n" % len(BUSY) + BUSY)
            with contextlib.suppress(ConnectionError):
                await writer.drain()
            writer.close()
            return
        self.connections += 1
        ls = self.make_server()
        ls._stop_event = threading.Event()
        ls.protocol.set_writer(writer)
        # pygls' `exit` ends the whole process (sys.exit); here it ends this connection.
        ls.protocol.fm.add_builtin_feature(EXIT, lambda *_args: writer.close())
        try:
            await run_async(stop_event=ls._stop_event, reader=GuardedReader(reader, ls.protocol),
                            protocol=ls.protocol, logger=log,
                            error_handler=ls.report_server_error)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError,
                ValueError) as exc:  # ValueError: a header line over the reader's limit
            log.info("a TCP client went away: %s", exc)
        finally:
            self.connections -= 1
            writer.close()
            try:
                await ls.end_connection()
            finally:
                ls.shutdown()

    async def serve(self, host: str, port: int) -> None:
        server = await asyncio.start_server(self.connection, host, port)
        log.info("serving on %s", ", ".join(str(s.getsockname()) for s in server.sockets))
        async with server:
            await server.serve_forever()
