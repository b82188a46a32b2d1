"""`zwarm-ls serve --tcp`: loopback by default, always a token (never on argv), and every
connection served by a language server of its own: its own authentication and replies;
a client that leaves, even by `exit`, ends only its own connection."""

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

from .conftest import CAPABILITIES, TIMEOUT, eventually


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
    alive = proc.poll() is None
    proc.kill()
    proc.wait()
    assert alive, "the daemon ended with a client"


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


async def total(client: LanguageClient) -> int:
    return (await request(client, "zwarm/listSessions", {}))["counts"]["total"]


async def test_connections_are_separate(tcp_server, fake_clis):
    # A bare connect-and-close (once the port listens) does not stop the daemon.
    for _ in range(200):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", tcp_server)
            break
        except OSError:
            await asyncio.sleep(0.05)
    writer.close()
    first = await authenticated(tcp_server)
    assert await total(first) == 0

    # A second client is served at the same time, with its own replies...
    second = await authenticated(tcp_server)
    started = await request(second, "zwarm/delegate", {"task": "from the second client"})
    assert await total(first) == 1 and await total(second) == 1
    assert (await request(first, "zwarm/peekSession",
                          {"sessionId": started["sessionId"]}))["sessionId"] == started["sessionId"]

    # ...and a third that does not know the token gets nothing, whoever else is signed in.
    stranger = await connect(tcp_server)
    with pytest.raises(JsonRpcException):
        await asyncio.wait_for(stranger.initialize_async(lsp.InitializeParams(
            capabilities=CAPABILITIES)), TIMEOUT)
    with pytest.raises(JsonRpcException) as refused:
        await request(stranger, "zwarm/listSessions", {})
    assert "unauthorized" in refused.value.message
    await disconnect(stranger)

    # A client that says goodbye properly (shutdown, exit) ends only its own connection.
    await asyncio.wait_for(first.shutdown_async(None), TIMEOUT)
    first.exit(None)
    assert await total(second) == 1
    await disconnect(second)
    third = await authenticated(tcp_server)
    assert await total(third) == 1
    await disconnect(third)


def test_tcp_without_a_token_is_refused(project):
    env = {k: v for k, v in os.environ.items() if k != "ZWARM_LS_TOKEN"}
    refused = subprocess.run([sys.executable, "-m", "zwarm_ls.cli", "serve", "--tcp",
                              "127.0.0.1:1", "--root", str(project)], capture_output=True,
                             text=True, timeout=TIMEOUT, env=env)
    assert refused.returncode == 2 and "TCP requires a token" in refused.stderr


async def test_agents_never_see_the_token(project, tmp_path):
    """ZWARM_LS_TOKEN is the daemon's: an agent it starts (which runs whatever a prompt
    talks it into) must not find it in its environment."""
    bin_dir, seen = tmp_path / "env-bin", tmp_path / "agent-env"
    bin_dir.mkdir()
    (bin_dir / "codex").write_text(f"#!/bin/sh\nenv > {seen}.tmp && mv {seen}.tmp {seen}\n")
    (bin_dir / "codex").chmod(0o755)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "zwarm_ls.cli", "serve", "--tcp",
                             f"127.0.0.1:{port}", "--root", str(project)],
                            env={**os.environ, "ZWARM_LS_TOKEN": "s3cret",
                                 "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"})
    try:
        client = await authenticated(port)
        await request(client, "zwarm/delegate", {"task": "print your environment"})
        await eventually(seen.exists)
        assert "PATH=" in seen.read_text() and "s3cret" not in seen.read_text()
        await disconnect(client)
    finally:
        proc.kill()
        proc.wait()
