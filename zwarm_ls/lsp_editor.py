"""The review's view of a connected editor: its open buffers (unsaved text included) and
`workspace/applyEdit`, so an apply reaches buffers and the editor's undo."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from .changes.changeset import uri_of

if TYPE_CHECKING:
    from pygls.workspace import TextDocument

    from .rpc import ServerHost


class LspEditor:
    """Implements the review's EditorBridge on top of the language server."""

    def __init__(self, ls: ServerHost):
        self.ls = ls

    def _document(self, uri: str) -> TextDocument | None:
        return self.ls.workspace.text_documents.get(uri)

    def buffer(self, path: Path) -> bytes | None:
        doc = self._document(uri_of(path))
        return doc.source.encode("utf-8") if doc is not None else None

    def version(self, uri: str) -> int | None:
        doc = self._document(uri)
        return doc.version if doc is not None else None

    def supports_resource_ops(self) -> bool:
        workspace = self.ls.client_capabilities.workspace
        edit = workspace.workspace_edit if workspace else None
        ops = (edit.resource_operations or []) if edit else []
        return lsp.ResourceOperationKind.Create in ops and lsp.ResourceOperationKind.Delete in ops

    def can_apply(self) -> bool:
        workspace = self.ls.client_capabilities.workspace
        return bool(workspace and workspace.apply_edit)

    async def apply_edit(self, edit: lsp.WorkspaceEdit, label: str) -> tuple[bool, str | None]:
        result = await self.ls.workspace_apply_edit_async(
            lsp.ApplyWorkspaceEditParams(edit=edit, label=label))
        if result.applied:
            return True, None
        return False, result.failure_reason or "the editor refused the edit"
