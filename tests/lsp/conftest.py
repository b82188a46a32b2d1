"""Drive the real daemon (`zwarm-ls serve`) over stdio with pytest-lsp's client."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, Union

import pytest
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.lsp_helpers import SERVER, plain
from zwarm_ls.protocol import SessionUpdated

TIMEOUT = 30


class Updates:
    """Every zwarm/sessionUpdated a client received, parsed with the protocol model."""

    def __init__(self, client: LanguageClient):
        self.items: list[SessionUpdated] = []
        self._changed = asyncio.Event()

        @client.feature("zwarm/sessionUpdated")
        def on_update(params: Any) -> None:
            self.items.append(SessionUpdated.model_validate(plain(params)))
            self._changed.set()

    async def until(self, predicate: Callable[[list[SessionUpdated]], bool],
                    timeout: float = TIMEOUT) -> list[SessionUpdated]:
        async def wait() -> None:
            while not predicate(self.items):
                self._changed.clear()
                await self._changed.wait()
        await asyncio.wait_for(wait(), timeout)
        return self.items

    def for_session(self, session_id: str) -> list[SessionUpdated]:
        return [u for u in self.items if u.session.id == session_id]


async def eventually(predicate: Callable[[], bool], timeout: float = TIMEOUT) -> None:
    """Wait for a condition the server makes true asynchronously (never a timing check)."""
    async def poll() -> None:
        while not predicate():
            await asyncio.sleep(0.02)
    await asyncio.wait_for(poll(), timeout)


CAPABILITIES = lsp.ClientCapabilities(
    window=lsp.WindowClientCapabilities(work_done_progress=True, show_message=None),
    workspace=lsp.WorkspaceClientCapabilities(
        code_lens=lsp.CodeLensWorkspaceClientCapabilities(refresh_support=True)),
)

def fix_code_action_structuring(client: LanguageClient) -> None:
    """lsprotocol reads any object with a "command" key as a Command, so a CodeAction
    whose `command` is a Command object comes out mangled. Editors tell them apart by the
    type of `command` (string for Command); teach the test client the same."""
    converter = client.protocol._converter

    def structure(obj: Any, _type: Any) -> lsp.Command | lsp.CodeAction:
        if isinstance(obj.get("command"), str):
            return converter.structure(obj, lsp.Command)
        return converter.structure(obj, lsp.CodeAction)

    converter.register_structure_hook(lsp.Command | lsp.CodeAction, structure)
    converter.register_structure_hook(
        Union[lsp.Command, lsp.CodeAction], structure)  # noqa: UP007 - the hook's exact key


StartClient = Callable[..., Awaitable[tuple[LanguageClient, Updates]]]


@pytest.fixture
async def start_client(project: Path, fake_clis: Path) -> AsyncIterator[StartClient]:
    """Start any number of daemons on `project`'s store; all are shut down afterwards."""
    clients: list[LanguageClient] = []

    async def start(options: dict | None = None, root: Path | None = None
                    ) -> tuple[LanguageClient, Updates]:
        config = ClientServerConfig(server_command=SERVER, server_env=dict(os.environ))
        client = await config.start()
        fix_code_action_structuring(client)
        clients.append(client)
        updates = Updates(client)
        client.code_lens_refreshes = 0  # type: ignore[attr-defined]

        @client.feature(lsp.WORKSPACE_CODE_LENS_REFRESH)
        def on_refresh(_params: Any) -> None:
            client.code_lens_refreshes += 1  # type: ignore[attr-defined]

        await client.initialize_session(lsp.InitializeParams(
            capabilities=CAPABILITIES, root_uri=(root or project).as_uri(),
            initialization_options=options))
        return client, updates

    yield start
    for client in clients:
        try:
            await asyncio.wait_for(client.shutdown_session(), TIMEOUT)
        except Exception:
            await client.stop()


def open_document(client: LanguageClient, path: Path, text: str, language: str = "python") -> str:
    path.write_text(text)
    uri = path.as_uri()
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        text_document=lsp.TextDocumentItem(uri=uri, language_id=language, version=1, text=text)))
    return uri
