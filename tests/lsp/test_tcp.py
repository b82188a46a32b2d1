"""`zwarm-ls serve --tcp`: loopback by default, a token (never on argv) when asked, each
connection authenticated on its own, one client at a time, and a client that leaves ends
only its own connection."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys

import pytest
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException
from pygls.lsp.client import LanguageClient

from tests.lsp_helpers import request

from .conftest import CAPABILITIES, TIMEOUT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def connect(port: int) -> LanguageClient:
    client = LanguageClient("tcp-test", "1")
    for _ in range(200):
        try:
            await client.start_tcp("127.0.0.1", port)
            return client
        except OSError:
            await asyncio.sleep(0.05)
    raise AssertionError("the server never listened")


async def disconnect(client: LanguageClient) -> None:
    """Close the socket first: over TCP, `stop()` alone waits on a read that never ends."""
    client.protocol.writer.close()
    await asyncio.wait_for(client.stop(), TIMEOUT)


@pytest.fixture
def tcp_server(project, fake_clis):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "zwarm_ls.cli", "serve", "--tcp",
                             f"127.0.0.1:{port}", "--root", str(project)],
                            env={**os.environ, "ZWARM_LS_TOKEN": "s3cret"})
    yield port
    proc.kill()
    proc.wait()


async def test_tcp_requires_the_token(tcp_server):
    client = await connect(tcp_server)
    with pytest.raises(JsonRpcException) as exc:
        await asyncio.wait_for(client.initialize_async(lsp.InitializeParams(
            capabilities=CAPABILITIES, initialization_options={"token": "wrong"})), TIMEOUT)
    assert "unauthorized" in exc.value.message
    with pytest.raises(JsonRpcException):
        await request(client, "zwarm/listSessions", {})
    await disconnect(client)


async def test_tcp_with_the_token_works(tcp_server):
    client = await connect(tcp_server)
    await asyncio.wait_for(client.initialize_async(lsp.InitializeParams(
        capabilities=CAPABILITIES, initialization_options={"token": "s3cret"})), TIMEOUT)
    client.initialized(lsp.InitializedParams())
    listed = await request(client, "zwarm/listSessions", {})
    assert listed["counts"]["total"] == 0
    await disconnect(client)


def test_non_loopback_needs_explicit_permission_and_a_token(project):
    refused = subprocess.run([sys.executable, "-m", "zwarm_ls.cli", "serve", "--tcp",
                              "0.0.0.0:1", "--root", str(project)], capture_output=True,
                             text=True, timeout=TIMEOUT)
    assert refused.returncode == 2 and "--allow-remote" in refused.stderr
    no_token = subprocess.run([sys.executable, "-m", "zwarm_ls.cli", "serve", "--tcp",
                               "0.0.0.0:1", "--allow-remote", "--root", str(project)],
                              capture_output=True, text=True, timeout=TIMEOUT)
    assert no_token.returncode == 2 and "token" in no_token.stderr


def test_a_token_on_the_command_line_is_refused(project, tmp_path):
    on_argv = subprocess.run([sys.executable, "-m", "zwarm_ls.cli", "serve", "--tcp",
                              "127.0.0.1:1", "--token", "s3cret", "--root", str(project)],
                             capture_output=True, text=True, timeout=TIMEOUT)
    assert on_argv.returncode == 2 and "visible to every local user" in on_argv.stderr
    loose = tmp_path / "token"
    loose.write_text("s3cret\n")
    loose.chmod(0o644)
    refused = subprocess.run([sys.executable, "-m", "zwarm_ls.cli", "serve", "--tcp",
                              "127.0.0.1:1", "--token-file", str(loose), "--root",
                              str(project)], capture_output=True, text=True, timeout=TIMEOUT)
    assert refused.returncode == 2 and "chmod 600" in refused.stderr


async def authenticated(port: int) -> LanguageClient:
    client = await connect(port)
    await asyncio.wait_for(client.initialize_async(lsp.InitializeParams(
        capabilities=CAPABILITIES, initialization_options={"token": "s3cret"})), TIMEOUT)
    client.initialized(lsp.InitializedParams())
    return client


async def test_connections_are_separate(tcp_server):
    # A bare connect-and-close (once the port listens) does not stop the daemon.
    for _ in range(200):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", tcp_server)
            break
        except OSError:
            await asyncio.sleep(0.05)
    writer.close()
    first = await authenticated(tcp_server)
    assert (await request(first, "zwarm/listSessions", {}))["counts"]["total"] == 0

    # A second client while one is served gets a clear refusal, not the first's replies.
    reader, writer = await asyncio.open_connection("127.0.0.1", tcp_server)
    refusal = await asyncio.wait_for(reader.read(4096), TIMEOUT)
    assert b"already serves an editor" in refusal
    writer.close()
    assert (await request(first, "zwarm/listSessions", {}))["counts"]["total"] == 0

    # The first leaves; the next client must authenticate for itself.
    await disconnect(first)
    second = await connect(tcp_server)
    with pytest.raises(JsonRpcException):
        await asyncio.wait_for(second.initialize_async(lsp.InitializeParams(
            capabilities=CAPABILITIES)), TIMEOUT)
    await disconnect(second)
    third = await authenticated(tcp_server)
    assert (await request(third, "zwarm/listSessions", {}))["counts"]["total"] == 0
    await disconnect(third)
