"""Bounds on what a client may send, checked on the raw stdio stream of the daemon: a
request without params is answered, an oversized message is dropped while the daemon
keeps serving, and oversized or non-finite fields are -32602 errors naming the field."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from lsprotocol.types import INITIALIZE, METHOD_TO_TYPES, SHUTDOWN

from zwarm_ls import errors
from zwarm_ls.orchestrator.lsp import REQUESTS as HUB_REQUESTS
from zwarm_ls.server import REQUESTS, server
from zwarm_ls.transport import MAX_MESSAGE_BYTES


class RawClient:
    """Content-Length framing by hand, to send what a well-behaved client never would."""

    def __init__(self, proc: asyncio.subprocess.Process):
        self.proc = proc

    def write(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps(message).encode()
        self.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    async def receive(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        length = 0
        while (line := await self.proc.stdout.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        return json.loads(await self.proc.stdout.readexactly(length))

    async def reply_to(self, request_id: int) -> dict[str, Any]:
        while True:
            message = await asyncio.wait_for(self.receive(), 30)
            if message.get("id") == request_id and "method" not in message:
                return message


@pytest.fixture
async def raw(project: Path):
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "zwarm_ls.cli", "serve", "--root", str(project),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL)
    client = RawClient(proc)
    client.send({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                 "params": {"capabilities": {}, "rootUri": project.as_uri()}})
    await client.reply_to(1)
    client.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
    yield client
    proc.kill()
    await proc.wait()


async def test_a_request_without_params_is_answered(raw: RawClient) -> None:
    raw.send({"jsonrpc": "2.0", "id": 2, "method": "zwarm/peekSession"})
    reply = await raw.reply_to(2)
    assert reply["error"]["code"] == -32602 and "sessionId" in reply["error"]["message"]
    raw.send({"jsonrpc": "2.0", "id": 3, "method": "zwarm/listSessions"})
    assert (await raw.reply_to(3))["result"]["counts"]["total"] == 0


async def test_an_oversized_message_is_dropped_and_the_daemon_serves_on(raw: RawClient) -> None:
    size = MAX_MESSAGE_BYTES + 1
    raw.write(b"Content-Length: %d\r\n\r\n" % size)
    chunk = b" " * (1024 * 1024)
    for _ in range(size // len(chunk)):
        raw.write(chunk)
    raw.write(b" " * (size % len(chunk)))
    raw.send({"jsonrpc": "2.0", "id": 4, "method": "zwarm/listSessions", "params": {}})
    assert "result" in await raw.reply_to(4)


RANGE = {"start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 0}}


def peak_memory(proc: asyncio.subprocess.Process) -> int:
    """The daemon's peak resident memory in bytes (VmHWM)."""
    for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


async def test_an_endless_header_line_is_dropped_in_pieces(raw: RawClient) -> None:
    before = peak_memory(raw.proc)
    chunk = b"X" * (1024 * 1024)
    assert raw.proc.stdin is not None
    for _ in range(128):  # 128 MiB of one header line
        raw.write(chunk)
        await raw.proc.stdin.drain()
    raw.write(b"\r\n")
    raw.send({"jsonrpc": "2.0", "id": 6, "method": "zwarm/listSessions", "params": {}})
    assert "result" in await raw.reply_to(6)
    assert peak_memory(raw.proc) - before < 32 * 1024 * 1024  # never held the line whole


@pytest.mark.parametrize(("method", "params", "field"), [
    ("zwarm/delegate", {"task": "x" * (256 * 1024 + 1)}, "task"),
    ("zwarm/delegate", {"task": "x", "workingDir": "a\u0000b"}, "workingDir"),
    ("zwarm/converse", {"sessionId": "abc", "message": "m" * (256 * 1024 + 1)}, "message"),
    ("zwarm/cleanSessions", {"keepDays": 1e400}, "keepDays"),
    ("zwarm/waitForSessions", {"timeoutS": float("nan")}, "timeoutS"),
    ("zwarm/waitForSessions", {"sessionIds": ["s" * 129]}, "sessionIds.0"),
    ("zwarm/applyChanges", {"sessionId": "abc", "hunkIds": ["h" * 129]}, "hunkIds.0"),
    ("zwarm/discardChanges", {"sessionId": "abc", "hunkIds": [""]}, "hunkIds.0"),
    ("zwarm/delegate", {"task": "x", "anchor": {"uri": "file:///a\u0000", "range": RANGE}},
     "anchor.uri"),
    ("zwarm/delegate", {"task": "x", "selection": {"uri": "file:///" + "a" * 8192,
                                                   "range": RANGE}}, "selection.uri"),
    ("zwarm/delegate", {"selection": {"uri": "file:///a", "range": {
        "start": {"line": 2**31, "character": 0}, "end": {"line": 0, "character": 0}}}},
     "selection.range.start.line"),
    ("zwarm/orchestratorTrajectory", {"runId": "r1", "sinceIndex": 10**12}, "sinceIndex"),
    ("zwarm/pilotGoto", {"checkpoint": "T" * 201}, "checkpoint"),
])
async def test_out_of_bounds_fields_are_invalid_params(raw: RawClient, method: str,
                                                       params: dict, field: str) -> None:
    body = json.dumps({"jsonrpc": "2.0", "id": 5, "method": method, "params": params})
    body = body.replace("1e400", "Infinity")  # what a JavaScript client may send
    raw.write(b"Content-Length: %d\r\n\r\n" % len(body.encode()) + body.encode())
    reply = await raw.reply_to(5)
    assert reply["error"]["code"] == -32602 and f"'{field}'" in reply["error"]["message"]


# A success, or one of the errors the daemon gives on purpose (errors.py); never -32603.
MEANT = {errors.INVALID_PARAMS, errors.SESSION_NOT_FOUND, errors.SESSION_AMBIGUOUS,
         errors.SESSION_STATE, errors.EXECUTOR_MISSING, errors.POLICY, errors.STORE}
NAMES = sorted({*REQUESTS, *HUB_REQUESTS})
MISSING = object()


async def test_every_method_answers_missing_and_null_params(raw: RawClient) -> None:
    """Every request and command form, from the server's own tables (so a new method is
    covered without touching this test), with params left out or null."""
    forms: list[dict[str, Any]] = []
    for name in NAMES:
        forms += [{"method": f"zwarm/{name}"},
                  {"method": f"zwarm/{name}", "params": None},
                  {"method": "workspace/executeCommand", "params": {"command": f"zwarm.{name}"}},
                  {"method": "workspace/executeCommand",
                   "params": {"command": f"zwarm.{name}", "arguments": [None]}}]
    for number, form in enumerate(forms, start=100):
        raw.send({"jsonrpc": "2.0", "id": number, **form})
        reply = await raw.reply_to(number)
        error = reply.get("error")
        assert error is None or error["code"] in MEANT, (form, error)


async def test_every_standard_request_with_bad_params_is_answered(raw: RawClient) -> None:
    """pygls logs a request it cannot read and never replies; the client would wait
    forever. Every LSP request the daemon serves (from its own feature table) and
    executeCommand, with params missing, null, of the wrong type or shape: -32602."""
    served = [m for m in server.protocol.fm.features
              if METHOD_TO_TYPES.get(m, (None, None))[1] is not None
              and m not in (INITIALIZE, SHUTDOWN) and not m.startswith("zwarm/")]
    assert {"textDocument/codeAction", "textDocument/hover"} <= set(served)
    number = 200
    for method in [*served, "workspace/executeCommand"]:
        for params in [MISSING, None, [], 5, {}, {"textDocument": {"uri": 5}}]:
            message: dict[str, Any] = {"jsonrpc": "2.0", "id": number, "method": method}
            if params is not MISSING:
                message["params"] = params
            raw.send(message)
            reply = await raw.reply_to(number)
            assert "result" in reply or reply["error"]["code"] == errors.INVALID_PARAMS, \
                (method, params, reply)
            number += 1
    raw.send({"jsonrpc": "2.0", "id": number, "method": "zwarm/listSessions", "params": {}})
    assert "result" in await raw.reply_to(number)


def framed(stream: bytes) -> list[dict[str, Any]]:
    messages = []
    while stream:
        header, _, rest = stream.partition(b"\r\n\r\n")
        length = int(re.search(rb"Content-Length: (\d+)", header).group(1))  # type: ignore[union-attr]
        messages.append(json.loads(rest[:length]))
        stream = rest[length:]
    return messages


def test_stdin_from_a_file_is_read_too(project: Path, tmp_path: Path) -> None:
    """A pipe is read by the event loop; a regular file (which it cannot watch) by a
    thread: requests from a file are answered the same, and the end of the file ends the
    daemon."""
    messages = [{"jsonrpc": "2.0", "id": 1, "method": "initialize",
                 "params": {"capabilities": {}, "rootUri": project.as_uri()}},
                {"jsonrpc": "2.0", "method": "initialized", "params": {}},
                {"jsonrpc": "2.0", "id": 2, "method": "zwarm/listSessions", "params": {}},
                {"jsonrpc": "2.0", "id": 3, "method": SHUTDOWN, "params": None}]
    script = tmp_path / "requests.bin"
    script.write_bytes(b"".join(b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
                                for body in (json.dumps(m).encode() for m in messages)))
    with script.open("rb") as stdin:
        done = subprocess.run([sys.executable, "-m", "zwarm_ls.cli", "serve", "--root",
                               str(project)], stdin=stdin, capture_output=True, timeout=60,
                              check=False)
    replies = {m["id"]: m for m in framed(done.stdout) if "id" in m and "method" not in m}
    assert replies[2]["result"]["counts"]["total"] == 0
    assert replies[3]["result"] is None
