"""The change-set verbs: sessionChanges, applyChanges, discardChanges, fileContent and
blame, plus what the service does with change sets when sessions start, step and end.
Used by the LSP server, the CLI and the orchestrator tools alike; git work runs off the
event loop, and one apply or discard runs at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Literal, Protocol

from lsprotocol import types as lsp
from pygls.uris import to_fs_path

from .changes import worktrees
from .changes.changeset import SNAPSHOT_SCHEME, ChangeSets, FileEdit, Plan, Scope, uri_of
from .config import Config
from .edits import read_disk, workspace_edit, write_files
from .errors import InvalidParams, SessionStateError
from .index import Index
from .protocol import (
    ApplyChangesParams,
    ApplyChangesResult,
    BlameParams,
    BlameResult,
    ChangeCounts,
    ChangesUpdated,
    DiscardChangesParams,
    DiscardChangesResult,
    FileContentParams,
    FileContentResult,
    HunkConflict,
    Overlap,
    Range,
    SessionChangesParams,
    SessionChangesResult,
    Step,
)
from .store import SessionMeta, Store, validate_id

log = logging.getLogger(__name__)

ChangesListener = Callable[[ChangesUpdated], Awaitable[None] | None]


class EditorBridge(Protocol):
    """What the review needs from a connected editor (the LSP server provides it)."""

    def buffer(self, path: Path) -> bytes | None:
        """The open document's text, unsaved edits included; None when not open."""

    def version(self, uri: str) -> int | None: ...

    def supports_resource_ops(self) -> bool: ...

    def can_apply(self) -> bool:
        """Whether the editor takes `workspace/applyEdit` at all."""

    async def apply_edit(self, edit: lsp.WorkspaceEdit, label: str) -> tuple[bool, str | None]:
        """Send `workspace/applyEdit`: (applied, failure reason)."""


def path_of(uri: str) -> Path | None:
    if not uri.startswith("file:"):
        return None
    path = to_fs_path(uri)
    return Path(path) if path else None


class Review:
    def __init__(self, config: Config, store: Store, index: Index):
        self.config = config
        self.store = store
        self.index = index
        cap = int(config.sessions.snapshot_max_file_mb * 1024 * 1024)
        self.changes = ChangeSets(store, cap)
        self.editor: EditorBridge | None = None
        self._listeners: list[ChangesListener] = []
        self._write_lock = asyncio.Lock()
        self._stepping: set[str] = set()
        self._step_paths: dict[str, list[str]] = {}

    def subscribe(self, listener: ChangesListener) -> None:
        self._listeners.append(listener)

    # Session life cycle

    def default_isolation(self, working_dir: Path, source: str | None) -> str:
        configured = self.config.sessions.isolation
        if configured:
            return configured
        if source and source.startswith("orchestrator"):
            return "inplace"  # the crew verifies in place
        return "worktree" if worktrees.repo_top(working_dir) is not None else "inplace"

    def prepare(self, session_id: str, working_dir: Path, isolation: str) -> tuple[Scope, Path]:
        """Where the new session's agent works (creating its worktree if isolated)."""
        root = self.config.root
        scope_root = root if working_dir == root or root in working_dir.parents else working_dir
        scope = self.changes.prepare(session_id, scope_root, isolation)  # type: ignore[arg-type]
        agent_dir = scope.agent_root / working_dir.relative_to(scope_root)
        return scope, agent_dir

    def check_workspace(self, meta: SessionMeta) -> None:
        """A worktree removed or emptied by hand is reported, never worked around: git
        would otherwise fall through to the user's own checkout."""
        scope = Scope.of(meta)
        if scope is not None and scope.worktree is not None and \
                not worktrees.exists(scope.worktree):
            raise SessionStateError(
                f"the worktree of session {meta.id[:8]} ({scope.worktree.path}) is gone",
                hint="its change set can still be reviewed; start a new session to go on")

    def scope_record(self, scope: Scope) -> dict:
        return scope.dump(self.changes.shadow.max_file_bytes)

    async def on_steps(self, session_id: str, steps: list[Step]) -> None:
        """A running agent changed files: snapshot just those, so status is live. Bursts
        coalesce: while one snapshot of a session runs, the next waits and takes all."""
        paths = [t.path for s in steps if s.kind == "file_change" for t in s.files or []]
        meta = self.index.meta(session_id)
        if not paths or Scope.of(meta) is None:
            return
        waiting = self._step_paths.setdefault(session_id, [])
        waiting.extend(paths)
        if session_id in self._stepping:
            return
        self._stepping.add(session_id)
        try:
            while self._step_paths.get(session_id):
                batch = self._step_paths.pop(session_id)
                meta = self.index.meta(session_id)
                await asyncio.to_thread(self.changes.record, meta, meta.turn, "step", batch)
                await self.refresh(session_id)
        finally:
            self._stepping.discard(session_id)
            self._step_paths.pop(session_id, None)

    async def on_user_save(self, uri: str) -> None:
        path = path_of(uri)
        if path is None:
            return
        await asyncio.to_thread(self.changes.record_user_save, path, [self.config.root])

    async def refresh(self, session_id: str) -> ChangeCounts | None:
        """Recompute the session's counts and overlaps, store them in meta.json (so every
        daemon and the summaries see them) and tell the listeners."""
        try:
            meta = self.index.meta(session_id)
        except Exception:
            return None
        counts, overlaps = await asyncio.to_thread(self._counts_and_overlaps, meta)

        def store(m: SessionMeta) -> None:
            extra = m.model_extra if m.model_extra is not None else {}
            extra["changes"] = counts.model_dump(mode="json")
            extra["overlaps"] = [o.model_dump(mode="json") for o in overlaps]

        stored = (meta.model_extra or {})
        fresh = [o.model_dump(mode="json") for o in overlaps]
        if stored.get("changes") != counts.model_dump(mode="json") or \
                stored.get("overlaps", []) != fresh:
            # The watcher reads it back from the journal and pushes zwarm/sessionUpdated.
            await asyncio.to_thread(self.store.update, session_id, store)
        await self._emit(ChangesUpdated(session_id=session_id, counts=counts))
        return counts

    def _counts_and_overlaps(self, meta: SessionMeta) -> tuple[ChangeCounts, list[Overlap]]:
        view = self.changes.view(meta)
        overlaps = self.changes.overlaps(meta, self._live(meta.id)) if view.result.known else []
        return view.result.counts, overlaps

    def anchor_overlaps(self, meta: SessionMeta, uri: str, r: Range) -> list[Overlap]:
        return self.changes.overlaps(meta, self._live(meta.id), anchor=(uri, r))

    def _live(self, exclude: str) -> list[SessionMeta]:
        """Sessions with a change set that are running or hold hunks to review."""
        live = []
        for session_id in self.index.ids():
            if session_id == exclude:
                continue
            with contextlib.suppress(Exception):  # deleted meanwhile
                meta = self.index.meta(session_id)
                counts = (meta.model_extra or {}).get("changes") or {}
                pending = isinstance(counts, dict) and (counts.get("pending") or
                                                        counts.get("conflict"))
                if Scope.of(meta) and (meta.status in ("pending", "running") or pending):
                    live.append(meta)
        return live

    async def _emit(self, update: ChangesUpdated) -> None:
        for listener in list(self._listeners):
            try:
                result = listener(update)
                if result is not None:
                    await result
            except Exception:
                log.exception("a changes listener failed")

    # The verbs

    async def session_changes(self, p: SessionChangesParams) -> SessionChangesResult:
        meta = self.index.meta(self.index.resolve(p.session_id))
        view = await asyncio.to_thread(self.changes.view, meta, p.turn)
        return view.result

    async def apply_changes(self, p: ApplyChangesParams) -> ApplyChangesResult:
        session_id = self.index.resolve(p.session_id)
        plan, edit, written_by, refused = await self._run(session_id, p.hunk_ids, "apply",
                                                          p.dry_run)
        return ApplyChangesResult(session_id=session_id, applied=[] if refused else plan.done,
                                  skipped=plan.skipped, conflicts=plan.conflicts, edit=edit,
                                  written_by=written_by)

    async def discard_changes(self, p: DiscardChangesParams) -> DiscardChangesResult:
        session_id = self.index.resolve(p.session_id)
        plan, edit, written_by, refused = await self._run(session_id, p.hunk_ids, "discard",
                                                          False)
        return DiscardChangesResult(session_id=session_id,
                                    discarded=[] if refused else plan.done,
                                    skipped=plan.skipped, conflicts=plan.conflicts, edit=edit,
                                    written_by=written_by)

    async def _run(self, session_id: str, hunk_ids: list[str] | None,
                   mode: Literal["apply", "discard"], dry_run: bool
                   ) -> tuple[Plan, dict | None, Literal["editor", "daemon", "none"], bool]:
        async with self._write_lock:
            meta = self.index.meta(session_id)
            plan = await asyncio.to_thread(self.changes.plan, meta, hunk_ids, mode,
                                           self._current_text)
            if plan.conflicts:
                await asyncio.to_thread(self.changes.mark_conflicts, meta,
                                        [c.hunk_id for c in plan.conflicts])
                await self.refresh(session_id)
                return plan, None, "none", True
            edit = self._workspace_edit(plan.edits)
            edit_json = _edit_json(edit) if plan.edits else None
            if dry_run:
                return plan, edit_json, "none", False
            written_by, reason = await self._write(plan.edits, edit, f"zwarm {mode}")
            if reason is not None:
                plan.conflicts = [HunkConflict(hunk_id=h, path=uri_of(e.path),
                                               reason="clientRefused", detail=reason)
                                  for h in plan.done for e in plan.edits[:1]]
                return plan, edit_json, "none", True
            await asyncio.to_thread(self.changes.commit_plan, meta, plan)
        await self.refresh(session_id)
        return plan, edit_json, written_by, False

    def _current_text(self, path: Path) -> bytes | None:
        buffered = self.editor.buffer(path) if self.editor else None
        return buffered if buffered is not None else read_disk(path)

    def _workspace_edit(self, edits: list[FileEdit]) -> lsp.WorkspaceEdit:
        editor = self.editor
        return workspace_edit(edits, editor.version if editor else lambda _uri: None,
                              resource_ops=editor.supports_resource_ops() if editor else True)

    async def _write(self, edits: list[FileEdit], edit: lsp.WorkspaceEdit,
                     label: str) -> tuple[Literal["editor", "daemon", "none"], str | None]:
        if not edits:
            return "none", None
        editor = self.editor
        if editor is None or not editor.can_apply():
            await asyncio.to_thread(write_files, edits)
            return "daemon", None
        if not editor.supports_resource_ops():
            # The editor cannot create or delete files: the daemon does those itself.
            await asyncio.to_thread(write_files, [e for e in edits
                                                  if e.before is None or e.after is None])
            edits = [e for e in edits if e.before is not None and e.after is not None]
            if not edits:
                return "daemon", None
            edit = self._workspace_edit(edits)
        applied, reason = await editor.apply_edit(edit, label)
        if not applied:
            return "none", reason or "the editor did not apply the edit"
        return "editor", None

    async def patch(self, base: str, result: str, paths: list[str]) -> str:
        """The change set as a unified diff (git's), for terminals."""
        proc = await asyncio.to_thread(self.changes.shadow.run, [
            "diff", "--no-color", "--no-ext-diff", "-M", base, result, "--", *paths])
        return proc.stdout.decode("utf-8", errors="replace")

    async def file_content(self, p: FileContentParams) -> FileContentResult:
        session_id, side, rel = parse_snapshot_uri(p.uri)
        session_id = self.index.resolve(session_id)
        data = await asyncio.to_thread(self.changes.file_content, session_id, side, rel)
        if data is None:
            return FileContentResult(uri=p.uri, text="")
        binary = b"\0" in data[:8000]
        text = f"(binary file, {len(data)} bytes)" if binary else data.decode("utf-8", "replace")
        return FileContentResult(uri=p.uri, text=text, binary=binary)

    async def blame(self, p: BlameParams) -> BlameResult:
        path = path_of(p.uri)
        if path is None:
            raise InvalidParams(f"'{p.uri}' is not a file URI", hint="blame works on files")
        buffer = self.editor.buffer(path) if self.editor else None
        lines = await asyncio.to_thread(self.changes.blame, self.config.root, path, buffer)
        if lines is None:
            return BlameResult(uri=p.uri, known=False)
        if p.range is not None:
            last = max(p.range.end.line, p.range.start.line + 1)
            lines = [ln for ln in lines if p.range.start.line <= ln.line < last]
        for line in lines:
            if line.session_id:
                try:
                    line.adapter = self.index.meta(line.session_id).adapter
                except Exception:
                    line.adapter = None
        return BlameResult(uri=p.uri, known=True, lines=lines)


def parse_snapshot_uri(uri: str) -> tuple[str, str, str]:
    """`zwarm-snapshot:/<sessionId>/<base|result|turn-N>/<relative path>` → its parts."""
    prefix = SNAPSHOT_SCHEME + ":"
    if not uri.startswith(prefix):
        raise InvalidParams(f"'{uri[:80]}' is not a {SNAPSHOT_SCHEME}: URI",
                            hint="use the baseUri or resultUri of a zwarm/sessionChanges file")
    parts = uri[len(prefix):].lstrip("/").split("/", 2)
    if len(parts) != 3 or not parts[2]:
        raise InvalidParams(f"'{uri[:80]}' does not name a session, a side and a path")
    session_id, side, rel = parts
    validate_id(session_id)
    segments = rel.split("/")
    if rel.startswith("/") or any(s in ("", ".", "..") for s in segments) or "\0" in rel:
        raise InvalidParams(f"'{rel[:80]}' is not a plain relative path",
                            hint="paths inside the session's working dir only")
    return session_id, side, rel


def _edit_json(edit: lsp.WorkspaceEdit) -> dict:
    from lsprotocol import converters

    return converters.get_converter().unstructure(edit, lsp.WorkspaceEdit)
