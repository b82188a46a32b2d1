"""`zwarm-ls serve --tcp`: loopback by default, a token when asked, refusal otherwise."""

from __future__ import annotations

import asyncio
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
                             f"127.0.0.1:{port}", "--token", "s3cret", "--root", str(project)])
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
    assert no_token.returncode == 2 and "--token" in no_token.stderr
