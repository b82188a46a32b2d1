"""How an apply or discard reaches the user's files: one LSP `WorkspaceEdit` (so open
buffers change and the editor's undo reverts it), or, with no editor (the CLI) or when
the editor refuses, written by the daemon with atomic renames.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from lsprotocol import types as lsp

from .changes.changeset import FileEdit, uri_of


def _text(data: bytes | None) -> str:
    return (data or b"").decode("utf-8", errors="replace")


def _minimal_edit(before: str, after: str) -> lsp.TextEdit:
    """One edit covering only the lines that differ (common head and tail kept), so
    cursors, marks and folds outside the change stay where they are."""
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    head = 0
    while head < min(len(old), len(new)) and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < min(len(old), len(new)) - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    start = lsp.Position(line=head, character=0)
    end_line = len(old) - tail
    if end_line == len(old) and old and not old[-1].endswith("\n"):
        end = lsp.Position(line=end_line - 1, character=len(old[-1]))
    else:
        end = lsp.Position(line=end_line, character=0)
    return lsp.TextEdit(range=lsp.Range(start=start, end=end),
                        new_text="".join(new[head:len(new) - tail]))


def workspace_edit(edits: list[FileEdit], version_of: Callable[[str], int | None],
                   resource_ops: bool = True) -> lsp.WorkspaceEdit:
    """The WorkspaceEdit for `edits`; `version_of(uri)` gives an open document's version
    (so a buffer changed meanwhile makes the editor reject the edit, not corrupt it)."""
    changes: list = []
    for edit in edits:
        uri = uri_of(edit.path)
        if edit.after is None:
            if resource_ops:
                changes.append(lsp.DeleteFile(uri=uri, options=lsp.DeleteFileOptions(
                    ignore_if_not_exists=True)))
            continue
        if edit.before is None and resource_ops:
            changes.append(lsp.CreateFile(uri=uri, options=lsp.CreateFileOptions(
                ignore_if_exists=True)))
        text_edit = _minimal_edit(_text(edit.before), _text(edit.after))
        changes.append(lsp.TextDocumentEdit(
            text_document=lsp.OptionalVersionedTextDocumentIdentifier(
                uri=uri, version=version_of(uri)),
            edits=[text_edit]))
    return lsp.WorkspaceEdit(document_changes=changes)


def write_files(edits: list[FileEdit]) -> None:
    """Write the edits to disk: each file replaced atomically (temp file + rename)."""
    for edit in edits:
        if edit.after is None:
            with contextlib.suppress(FileNotFoundError):
                edit.path.unlink()
            continue
        edit.path.parent.mkdir(parents=True, exist_ok=True)
        mode = edit.path.stat().st_mode & 0o7777 if edit.path.exists() else 0o644
        fd, tmp = tempfile.mkstemp(prefix=".zwarm-apply-", dir=edit.path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(edit.after)
            os.chmod(tmp, mode)
            os.replace(tmp, edit.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise


def read_disk(path: Path) -> bytes | None:
    try:
        return path.read_bytes() if path.is_file() else None
    except OSError:
        return None

