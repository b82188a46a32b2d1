"""What every test that drives the daemon over stdio with pytest-lsp shares."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from pytest_lsp import LanguageClient

# The same conversion the server applies to incoming params: pygls hands custom-method
# payloads over as namedtuples, and the tests compare plain JSON.
from zwarm_ls.rpc import to_plain as plain

SERVER = [sys.executable, "-m", "zwarm_ls.cli", "serve"]


async def request(client: LanguageClient, method: str, params: Any, timeout: float = 30) -> Any:
    """A custom request, its result as plain JSON; fails after `timeout` seconds."""
    return plain(await asyncio.wait_for(client.protocol.send_request_async(method, params),
                                        timeout))


__all__ = ["SERVER", "plain", "request"]
