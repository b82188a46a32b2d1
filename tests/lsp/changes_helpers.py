"""Shared by the change-set tests: a git project with a file the user has edited, a fake
agent turn that rewrites it, and a client that applies `workspace/applyEdit` the way an
editor does (to its open buffer, or to the file when it is not open)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

from lsprotocol import types as lsp
from pytest_lsp import LanguageClient

from tests.lsp.conftest import CAPABILITIES

ORIGINAL = "".join(f"line {i}\n" for i in range(30))
# The agent changes two places far apart: two hunks.
AGENT = ORIGINAL.replace("line 3\n", "agent 3\n").replace("line 20\n", "agent 20\nagent 20b\n")

EDITOR_CAPABILITIES = lsp.ClientCapabilities(
    window=CAPABILITIES.window,
    workspace=lsp.WorkspaceClientCapabilities(
        apply_edit=True, code_lens=CAPABILITIES.workspace.code_lens,
        workspace_edit=lsp.WorkspaceEditClientCapabilities(
            document_changes=True,
            resource_operations=[lsp.ResourceOperationKind.Create,
                                 lsp.ResourceOperationKind.Delete])),
)


def git(cwd: Path, *args: str) -> str:
    # No optional locks: `git status` here must not refresh the index it is checking.
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True, env=env).stdout


def make_repo(project: Path) -> None:
    git(project, "init", "-q")
    (project / "code.py").write_text(ORIGINAL)
    git(project, "add", "code.py")
    git(project, "-c", "user.name=u", "-c", "user.email=u@u", "commit", "-qm", "start")


def agent_turn(text: str = AGENT, path: str = "code.py") -> list[dict]:
    return [
        {"emit": {"type": "thread.started", "thread_id": "{thread_id}"}},
        {"write": path, "text": text},
        {"emit": {"type": "item.completed", "item": {
            "id": "i1", "type": "file_change", "status": "completed",
            "changes": [{"path": path, "kind": "update"}]}}},
        {"emit": {"type": "item.completed", "item": {"id": "i2", "type": "agent_message",
                                                     "text": "done"}}},
        {"emit": {"type": "turn.completed", "usage": {"input_tokens": 10, "output_tokens": 2}}},
    ]


def user_repo_state(project: Path) -> dict[str, Any]:
    """What of the user's repository a snapshot must never change."""
    git_dir = project / ".git"
    return {
        "index": (git_dir / "index").read_bytes(),
        "head": git(project, "rev-parse", "HEAD"),
        "stash": git(project, "stash", "list"),
        "status": git(project, "status", "--porcelain"),
    }


class Buffers:
    """An editor's open documents: applyEdit changes them (and records each edit)."""

    def __init__(self, client: LanguageClient):
        self.text: dict[str, str] = {}
        self.edits: list[lsp.WorkspaceEdit] = []
        self.refuse = False

        @client.feature(lsp.WORKSPACE_APPLY_EDIT)
        def on_apply(params: lsp.ApplyWorkspaceEditParams) -> lsp.ApplyWorkspaceEditResult:
            if self.refuse:
                return lsp.ApplyWorkspaceEditResult(applied=False, failure_reason="user said no")
            self.edits.append(params.edit)
            for change in params.edit.document_changes or []:
                if isinstance(change, lsp.TextDocumentEdit):
                    self._apply(change)
            return lsp.ApplyWorkspaceEditResult(applied=True)

    def _apply(self, change: lsp.TextDocumentEdit) -> None:
        uri = change.text_document.uri
        if uri not in self.text:
            self.text[uri] = Path(uri.removeprefix("file://")).read_text()
        lines = self.text[uri].splitlines(keepends=True)
        for edit in change.edits:
            start, end = edit.range.start, edit.range.end
            head = "".join(lines[:start.line]) + (lines[start.line][:start.character]
                                                  if start.line < len(lines) else "")
            tail = (lines[end.line][end.character:] if end.line < len(lines) else "") + \
                "".join(lines[end.line + 1:])
            self.text[uri] = head + edit.new_text + tail
            lines = self.text[uri].splitlines(keepends=True)
