"""Change sets (DESIGN.md §7): what each session changed, hunk by hunk, and the user's
say over it. The service's one door to `zwarm_ls/changes/`.

A session's `change_set` record in meta.json says where it works:
    isolation   "worktree" | "inplace"
    user_root   the project folder hunks are applied to
    agent_root  where the agent works (a worktree's copy of the project, or user_root)
    worktree    the worktree record, for worktree sessions
Its snapshots are refs in the shadow repo: `refs/zwarm/sessions/<id>/{base,result}` and
`.../t<N>/{pre,post}`. Hunk states live in `sessions/<id>/changes.json`.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pygls.uris import from_fs_path

from ..errors import InvalidParams, SessionStateError
from ..protocol import (
    BlameLine,
    ChangeCounts,
    FileChange,
    Hunk,
    HunkConflict,
    Overlap,
    Position,
    Range,
    SessionChangesResult,
    SkippedHunk,
    SkippedPath,
)
from ..store import SessionMeta, Store, read_json, write_json_atomic
from ..text import clip
from . import git, worktrees
from .diff import RawFile, RawHunk, diff, patch_for
from .shadow import Author, Shadow, parse_author_mail

Phase = Literal["pre", "step", "post"]
UNKNOWN_NOTE = "changes unknown (made outside zwarm-ls)"
SNAPSHOT_SCHEME = "zwarm-snapshot"


def session_prefix(session_id: str) -> str:
    return f"refs/zwarm/sessions/{session_id}/"


@dataclass
class Scope:
    session_id: str
    isolation: Literal["worktree", "inplace"]
    user_root: Path
    agent_root: Path
    worktree: worktrees.Worktree | None

    @classmethod
    def of(cls, meta: SessionMeta) -> Scope | None:
        record = getattr(meta, "change_set", None)
        if not isinstance(record, dict) or record.get("isolation") not in ("worktree", "inplace"):
            return None
        try:
            tree = worktrees.Worktree.load(record["worktree"]) if record.get("worktree") else None
            return cls(meta.id, record["isolation"], Path(record["user_root"]),
                       Path(record["agent_root"]), tree)
        except (KeyError, TypeError):
            return None

    def dump(self, max_file_bytes: int | None = None) -> dict:
        return {"isolation": self.isolation, "user_root": str(self.user_root),
                "max_file_bytes": max_file_bytes,
                "agent_root": str(self.agent_root),
                "worktree": self.worktree.dump() if self.worktree else None}


@dataclass
class FileEdit:
    """One file the apply or discard changes: its text before and after (None: absent)."""

    path: Path
    before: bytes | None
    after: bytes | None


@dataclass
class Plan:
    session_id: str
    edits: list[FileEdit] = field(default_factory=list)
    done: list[str] = field(default_factory=list)  # hunks whose state changes
    new_state: Literal["applied", "discarded"] = "applied"
    skipped: list[SkippedHunk] = field(default_factory=list)
    conflicts: list[HunkConflict] = field(default_factory=list)
    # path → (turn, text before, text after), to credit the lines in the tree's history
    provenance: dict[str, tuple[int, bytes | None, bytes | None]] = \
        field(default_factory=dict)


@dataclass
class View:
    """A computed change set with the raw hunks kept for apply."""

    result: SessionChangesResult
    raw: list[RawFile]
    base: str | None
    scope: Scope | None


ReadCurrent = Callable[[Path], bytes | None]


class ChangeSets:
    def __init__(self, store: Store, max_file_bytes: int = 5 * 1024 * 1024):
        self.store = store
        self.shadow = Shadow(store.zwarm_dir, max_file_bytes)
        self._cache: dict[str, tuple[tuple, View]] = {}

    # Sessions: where they work, and their snapshots

    def prepare(self, session_id: str, project_root: Path,
                isolation: Literal["worktree", "inplace"]) -> Scope:
        """Where a new session works; creates its worktree when it is isolated."""
        git.git_version()
        self.shadow.ensure()
        if isolation == "inplace":
            return Scope(session_id, "inplace", project_root, project_root, None)
        tree = worktrees.create(project_root, self.store.zwarm_dir, session_id[:8],
                                self.shadow.max_file_bytes)
        return Scope(session_id, "worktree", project_root, tree.agent_root, tree)

    def record(self, meta: SessionMeta, turn: int, phase: Phase,
               paths: list[str] | None = None) -> str | None:
        """Snapshot the session's tree at a turn boundary (`pre`, `post`) or after a
        file change (`step`, only `paths`); returns the commit, None without a scope."""
        scope = Scope.of(meta)
        if scope is None or not scope.agent_root.is_dir():
            return None
        author = Author("user") if phase == "pre" else Author("agent", meta.id, turn)
        rel = self._relative(scope.agent_root, paths) if paths else None
        if paths and not rel:
            return None
        snap = self.shadow.snapshot(scope.agent_root, author,
                                    f"zwarm-ls {meta.id[:8]} turn {turn} {phase}", rel)
        prefix = session_prefix(meta.id)
        if phase == "pre":
            self.shadow.set_ref(f"{prefix}t{turn}/pre", snap.commit)
            if self.shadow.rev(prefix + "base") is None:
                self.shadow.set_ref(prefix + "base", snap.commit)
        elif phase == "post":
            self.shadow.set_ref(f"{prefix}t{turn}/post", snap.commit)
        self.shadow.set_ref(prefix + "result", snap.commit)
        if not paths:  # a step snapshot sees only its files
            self._save_skipped(meta.id, snap.skipped)
        return snap.commit

    def record_user_save(self, path: Path, roots: list[Path]) -> None:
        """The user saved `path`: credit what changed in it to the user."""
        for root in roots:
            rel = self._relative(root, [str(path)])
            if rel and self.shadow.rev(Shadow.chain_ref(root)) is not None:
                self.shadow.snapshot(root, Author("user"), "zwarm-ls user save", rel)

    @staticmethod
    def _relative(root: Path, paths: list[str]) -> list[str]:
        out = []
        for p in paths:
            full = Path(p) if os.path.isabs(p) else root / p
            with contextlib.suppress(ValueError):
                out.append(str(full.resolve().relative_to(root.resolve())))
        return out

    def _changes_path(self, session_id: str) -> Path:
        return self.store.session_dir(session_id) / "changes.json"

    def _load_record(self, session_id: str) -> dict:
        data = read_json(self._changes_path(session_id)) or {}
        return data if isinstance(data, dict) else {}

    def _save_record(self, session_id: str, update: Callable[[dict], None]) -> None:
        record = self._load_record(session_id)
        update(record)
        write_json_atomic(self._changes_path(session_id), record)

    def _save_skipped(self, session_id: str, skipped: list[tuple[str, str]]) -> None:
        if skipped or self._load_record(session_id).get("skipped"):
            self._save_record(session_id, lambda r: r.__setitem__("skipped", skipped))

    # Reading a change set

    def view(self, meta: SessionMeta, turn: int | None = None) -> View:
        scope = Scope.of(meta)
        prefix = session_prefix(meta.id)
        isolation = scope.isolation if scope else "inplace"
        result = SessionChangesResult(session_id=meta.id, short_id=meta.id[:8],
                                      isolation=isolation, known=False)
        if scope is None:
            result.note, result.counts = UNKNOWN_NOTE, ChangeCounts(known=False)
            return View(result, [], None, None)
        base_ref = f"{prefix}t{turn}/pre" if turn else prefix + "base"
        result_ref = f"{prefix}t{turn}/post" if turn else prefix + "result"
        refs = self.shadow.refs(prefix)  # one git call for every ref of the session
        base, head = refs.get(base_ref), refs.get(result_ref)
        if base is None or head is None:
            result.note = "no snapshot yet" if meta.status in ("pending", "running") else \
                UNKNOWN_NOTE
            result.counts = ChangeCounts(known=meta.status in ("pending", "running"))
            return View(result, [], None, scope)
        record = self._load_record(meta.id)
        key = (base, head, json.dumps(record, sort_keys=True), meta.status)
        cached = self._cache.get(f"{meta.id}:{turn}")
        if cached and cached[0] == key:
            return cached[1]
        raw = diff(self.shadow, base, head)
        if scope.isolation == "inplace" or meta.turn > 1:
            raw = self._attribute(meta, scope, head, raw)
        states = record.get("states", {})
        default = "pending" if scope.isolation == "worktree" else "applied"
        result.known, result.base_ref, result.result_ref = True, base, head
        result.stale = meta.status in ("pending", "running")
        result.files = [self._file(meta, scope, f, states, default) for f in raw]
        result.skipped = [SkippedPath(path=p, reason=r) for p, r in record.get("skipped", [])]
        result.counts = self._counts(result)
        view = View(result, raw, base, scope)
        self._cache[f"{meta.id}:{turn}"] = (key, view)
        return view

    def _attribute(self, meta: SessionMeta, scope: Scope, head: str,
                   raw: list[RawFile]) -> list[RawFile]:
        """Keep the hunks this session wrote (blame on the tree's history): lines the
        user or another session wrote in between are theirs, not this session's."""
        kept: list[RawFile] = []
        for f in raw:
            if f.binary or f.status == "deleted":
                kept.append(f)
                continue
            authors = self._blame_commit(head, f.path)
            hunks = []
            for h in f.hunks:
                if h.whole_file or h.new_count == 0:
                    h.turn, h.mixed = meta.turn, False  # type: ignore[attr-defined]
                    hunks.append(h)
                    continue
                lines = [authors.get(n) for n in range(h.new_start, h.new_start + h.new_count)]
                mine = [a for a in lines if a and a.session_id == meta.id]
                if not mine:
                    continue
                h.turn = max(a.turn or 1 for a in mine)  # type: ignore[attr-defined]
                h.mixed = len(mine) < len(lines)  # type: ignore[attr-defined]
                hunks.append(h)
            if hunks:
                f.hunks = hunks
                kept.append(f)
        return kept

    def _blame_commit(self, commit: str, path: str) -> dict[int, Author]:
        proc = self.shadow.run(["blame", "--line-porcelain", "-w", commit, "--", path],
                               ok_codes=(0, 128))
        return parse_blame(proc.stdout)

    def _file(self, meta: SessionMeta, scope: Scope, f: RawFile, states: dict,
              default: str) -> FileChange:
        hunks = [Hunk(
            id=h.id, turn=getattr(h, "turn", meta.turn),
            old_range=_range(h.old_start, h.old_count), new_range=_range(h.new_start, h.new_count),
            state=states.get(h.id, default), mixed=getattr(h, "mixed", None) or None,
            added=h.new_count, removed=h.old_count,
            preview=clip((h.new_lines or h.old_lines or [f.status])[0], 80))
            for h in f.hunks]
        return FileChange(
            path=uri_of(scope.user_root / f.path), rel_path=f.path, status=f.status,
            old_path=uri_of(scope.user_root / f.old_path) if f.old_path else None,
            base_uri=snapshot_uri(meta.id, "base", f.old_path or f.path),
            result_uri=snapshot_uri(meta.id, "result", f.path), binary=f.binary or None,
            added=sum(h.added for h in hunks), removed=sum(h.removed for h in hunks),
            hunks=hunks)

    @staticmethod
    def _counts(result: SessionChangesResult) -> ChangeCounts:
        counts = ChangeCounts(files=len(result.files), known=result.known)
        for f in result.files:
            for h in f.hunks:
                setattr(counts, h.state, getattr(counts, h.state) + 1)
        return counts

    def file_content(self, session_id: str, side: str, rel: str) -> bytes | None:
        prefix = session_prefix(session_id)
        ref = {"base": prefix + "base", "result": prefix + "result"}.get(side)
        if ref is None and side.startswith("turn-") and side[5:].isdigit():
            ref = f"{prefix}t{int(side[5:])}/post"
        if ref is None:
            raise InvalidParams(f"unknown snapshot side '{side}'",
                                hint="use base, result or turn-N")
        commit = self.shadow.rev(ref)
        return self.shadow.read_blob(commit, rel) if commit else None

    # Applying and discarding

    def plan(self, meta: SessionMeta, hunk_ids: list[str] | None,
             mode: Literal["apply", "discard"], read_current: ReadCurrent) -> Plan:
        if meta.status in ("pending", "running"):
            raise SessionStateError(f"session {meta.id[:8]} is still {meta.status}",
                                    hint="wait for the turn to finish, or end the session")
        view = self.view(meta)
        if view.scope is None or view.base is None:
            raise InvalidParams(f"session {meta.id[:8]} has no change set: {UNKNOWN_NOTE}")
        plan = Plan(meta.id, new_state="applied" if mode == "apply" else "discarded")
        wanted = self._wanted(view, hunk_ids, mode, plan)
        effect = {h.id for f in view.result.files for h in f.hunks if h.state == "applied"}
        target = effect | wanted if mode == "apply" else effect - wanted
        files = [f for f in view.raw if any(h.id in wanted for h in f.hunks)]
        if target != effect:
            self._merge(view, files, effect, target, read_current, plan)
        if plan.conflicts:
            plan.done, plan.edits = [], []
        return plan

    def _wanted(self, view: View, hunk_ids: list[str] | None, mode: str, plan: Plan) -> set[str]:
        states = {h.id: h.state for f in view.result.files for h in f.hunks}
        if hunk_ids is None:
            hunk_ids = [i for i, s in states.items()
                        if (s in ("pending", "conflict") if mode == "apply" else s != "discarded")]
        unknown = [i for i in hunk_ids if i not in states]
        if unknown:
            raise InvalidParams(
                f"unknown hunk id '{unknown[0]}' for session {view.result.short_id}",
                hint="the change set may have moved on: read zwarm/sessionChanges again")
        wanted: set[str] = set()
        for hunk_id in dict.fromkeys(hunk_ids):
            state = states[hunk_id]
            if (mode == "apply" and state == "applied") or \
                    (mode == "discard" and state == "discarded"):
                plan.skipped.append(SkippedHunk(hunk_id=hunk_id, reason=f"already {state}"))
                continue
            plan.done.append(hunk_id)
            if state == "applied" or mode == "apply":
                wanted.add(hunk_id)  # these change files; a pending one is only dropped
        return wanted

    def _merge(self, view: View, files: list[RawFile], effect: set[str], target: set[str],
               read_current: ReadCurrent, plan: Plan) -> None:
        assert view.base is not None and view.scope is not None
        paths = sorted({p for f in files for p in (f.path, f.old_path) if p})
        ours = self._apply_subset(view.base, view.raw, effect, paths)
        theirs = self._apply_subset(view.base, view.raw, target, paths)
        hunks_of = {p: [h.id for f in files if p in (f.path, f.old_path) for h in f.hunks
                        if h.id in plan.done] for p in paths}
        binary = {p for f in files if f.binary for p in (f.path, f.old_path) if p}
        for path in paths:
            old, new = ours.get(path), theirs.get(path)
            if old == new:
                continue
            full = view.scope.user_root / path
            current = read_current(full)
            merged, reason = merge_texts(current, old, new, path in binary)
            if reason is not None:
                culprits = self._culprits(view, effect, target, hunks_of[path], path, current,
                                          reason, path in binary)
                plan.conflicts += [HunkConflict(hunk_id=h, path=uri_of(full), reason=reason,
                                                detail=_conflict_detail(reason))
                                   for h in culprits]
                continue
            if merged != current:
                plan.edits.append(FileEdit(full, current, merged))
                turn = max((getattr(h, "turn", 1) for f in files for h in f.hunks
                            if h.id in hunks_of[path]), default=1)
                plan.provenance[path] = (turn, current, merged)

    def _culprits(self, view: View, effect: set[str], target: set[str], hunks: list[str],
                  path: str, current: bytes | None, reason: str, binary: bool) -> list[str]:
        """Which of a file's requested hunks conflict on their own (so the others can be
        named as fine); all of them when none does alone."""
        if reason != "overlap" or len(hunks) < 2:
            return hunks
        assert view.base is not None
        alone = []
        for hunk in hunks:
            single = (effect | {hunk}) if hunk in target else (effect - {hunk})
            old = self._apply_subset(view.base, view.raw, effect, [path])[path]
            new = self._apply_subset(view.base, view.raw, single, [path])[path]
            if merge_texts(current, old, new, binary)[1] is not None:
                alone.append(hunk)
        return alone or hunks

    def _apply_subset(self, base: str, raw: list[RawFile], chosen: set[str],
                      paths: list[str]) -> dict[str, bytes | None]:
        """The files at `paths` as base plus the chosen hunks, via `git apply --cached`."""
        with self.shadow.temp_index() as index:
            self.shadow.run(["read-tree", base], index_file=index)
            patch = patch_for(raw, chosen)
            if patch:
                self.shadow.run(["apply", "--cached", "--unidiff-zero", "--whitespace=nowarn",
                                 "--allow-empty", "-"], index_file=index, stdin=patch)
            listing = self.shadow.run(["ls-files", "-s", "-z", "--", *paths],
                                      index_file=index).stdout
        blobs = {}
        for entry in filter(None, listing.split(b"\0")):
            meta, name = entry.split(b"\t", 1)
            blobs[name.decode(errors="surrogateescape")] = meta.split()[1].decode()
        return {p: (self.shadow.run(["cat-file", "blob", blobs[p]]).stdout if p in blobs else None)
                for p in paths}

    def commit_plan(self, meta: SessionMeta, plan: Plan) -> None:
        """Record the new hunk states, and credit the applied lines to the agent turn
        that wrote them (the user's tree history gets a commit of the new text)."""
        def update(record: dict) -> None:
            states = record.setdefault("states", {})
            for hunk_id in plan.done:
                states[hunk_id] = plan.new_state
        self._save_record(meta.id, update)
        scope = Scope.of(meta)
        if scope is None or not plan.provenance:
            return
        for path, (turn, before, after) in plan.provenance.items():
            # First what the user had (theirs), then the change (the agent's, or for a
            # discard the user's decision), so blame splits the lines correctly.
            self.shadow.commit_files(scope.user_root, {path: before}, Author("user"),
                                     "zwarm-ls user text before an apply")
            author = Author("agent", meta.id, turn) if plan.new_state == "applied" \
                else Author("user")
            self.shadow.commit_files(scope.user_root, {path: after}, author,
                                     f"zwarm-ls {meta.id[:8]} {plan.new_state}")

    def mark_conflicts(self, meta: SessionMeta, hunk_ids: list[str]) -> None:
        def update(record: dict) -> None:
            states = record.setdefault("states", {})
            for hunk_id in hunk_ids:
                if states.get(hunk_id) != "applied":
                    states[hunk_id] = "conflict"
        if hunk_ids:
            self._save_record(meta.id, update)

    # Provenance and overlaps

    def blame(self, root: Path, path: Path, buffer: bytes | None) -> list[BlameLine] | None:
        """Who wrote each line of `path` (its open buffer when given): None when no
        snapshot of `root` ever held the file."""
        head = self.shadow.rev(Shadow.chain_ref(root))
        rel = self._relative(root, [str(path)])
        if head is None or not rel:
            return None
        commit, unsaved_commit = head, None
        if buffer is not None:
            stored = self.shadow.read_blob(head, rel[0])
            if stored != buffer:
                unsaved_commit = commit = self.shadow.commit_detached(head, rel[0], buffer)
        proc = self.shadow.run(["blame", "--line-porcelain", "-w", commit, "--", rel[0]],
                               ok_codes=(0, 128))
        if proc.returncode != 0:
            return None
        lines = []
        for line, (author, sha) in sorted(parse_blame_with_commits(proc.stdout).items()):
            unsaved = sha == unsaved_commit if unsaved_commit else None
            lines.append(BlameLine(line=line, author="user" if unsaved else author.kind,
                                   session_id=None if unsaved else author.session_id,
                                   short_id=(author.session_id or "")[:8] or None
                                   if not unsaved else None,
                                   turn=None if unsaved else author.turn,
                                   unsaved=True if unsaved else None))
        return lines

    def overlaps(self, me: SessionMeta, others: list[SessionMeta],
                 anchor: tuple[str, Range] | None = None) -> list[Overlap]:
        """Live sessions whose hunks touch the same lines as `me` (or as `anchor`)."""
        mine: list[tuple[str, Range]] = [anchor] if anchor else []
        if not anchor:
            view = self.view(me)
            mine = [(f.path, h.old_range) for f in view.result.files for h in f.hunks
                    if h.state != "discarded"]
        found: list[Overlap] = []
        for other in others:
            if other.id == me.id:
                continue
            view = self.view(other)
            counts = view.result.counts
            live = other.status in ("pending", "running") or counts.pending + counts.conflict > 0
            if not live:
                continue
            for f in view.result.files:
                for h in f.hunks:
                    if h.state == "discarded":
                        continue
                    if any(p == f.path and _touch(r, h.old_range) for p, r in mine):
                        found.append(Overlap(session_id=other.id, short_id=other.id[:8],
                                             path=f.path, range=h.old_range))
        return found

    # Cleaning up

    def clean(self, meta: SessionMeta, force: bool) -> list[str]:
        """Drop the session's refs and worktree; refuses while hunks are pending unless
        `force` (then returns the ids it dropped)."""
        view = self.view(meta)
        pending = [h.id for f in view.result.files for h in f.hunks
                   if h.state in ("pending", "conflict")]
        if pending and not force:
            raise SessionStateError(
                f"session {meta.id[:8]} has {len(pending)} unapplied hunk(s): "
                + ", ".join(pending[:5]), hint="apply or discard them, or pass force")
        scope = Scope.of(meta)
        if scope and scope.worktree:
            worktrees.remove(scope.worktree)
        self.shadow.delete_refs(session_prefix(meta.id))
        self._cache = {k: v for k, v in self._cache.items() if not k.startswith(meta.id)}
        return pending


def merge_texts(current: bytes | None, old: bytes | None, new: bytes | None,
                binary: bool) -> tuple[bytes | None, str | None]:
    """Carry the change old → new onto `current` (three-way, `git merge-file`).
    Returns (merged, None), or (None, conflict reason)."""
    if current == old:
        return new, None
    if current == new:
        return current, None
    if current is None:
        return None, "deleted"
    if old is None or new is None:
        return None, "overlap"
    if binary:
        return None, "binary"
    with tempfile.TemporaryDirectory(prefix="zwarm-merge-") as tmp:
        names = []
        for label, data in (("current", current), ("base", old), ("agent", new)):
            target = Path(tmp) / label
            target.write_bytes(data)
            names.append(str(target))
        proc = git.run(["merge-file", "-p", "-L", "current", "-L", "base", "-L", "agent",
                        *names], env=git.shadow_env(Path(tmp) / "none"), ok_codes=range(0, 128))
    if proc.returncode != 0:
        return None, "overlap"
    return proc.stdout, None


def _conflict_detail(reason: str) -> str:
    return {
        "overlap": "the file's lines there changed since the agent's snapshot",
        "deleted": "the file was deleted",
        "binary": "a binary file changed on both sides",
    }.get(reason, reason)


def _range(start: int, count: int) -> Range:
    return Range(start=Position(line=start, character=0),
                 end=Position(line=start + count, character=0))


def _touch(a: Range, b: Range) -> bool:
    """Line ranges intersect; an empty range touches the line it sits on."""
    a0, a1 = a.start.line, max(a.end.line, a.start.line + 1)
    b0, b1 = b.start.line, max(b.end.line, b.start.line + 1)
    return a0 < b1 and b0 < a1


def parse_blame_with_commits(porcelain: bytes) -> dict[int, tuple[Author, str]]:
    """`git blame --line-porcelain` → {0-based line: (author, commit)}."""
    out: dict[int, tuple[Author, str]] = {}
    commit, line, mail = "", 0, ""
    for raw in porcelain.split(b"\n"):
        if raw.startswith(b"\t"):
            out[line] = (parse_author_mail(mail), commit)
            continue
        parts = raw.split(b" ")
        if len(parts) >= 3 and len(parts[0]) == 40 and parts[2].isdigit():
            commit, line = parts[0].decode(), int(parts[2]) - 1
        elif raw.startswith(b"author-mail "):
            mail = raw[12:].decode(errors="replace")
    return out


def parse_blame(porcelain: bytes) -> dict[int, Author]:
    return {n: a for n, (a, _) in parse_blame_with_commits(porcelain).items()}


def uri_of(path: Path) -> str:
    return from_fs_path(str(path)) or path.as_uri()


def snapshot_uri(session_id: str, side: str, rel: str) -> str:
    return f"{SNAPSHOT_SCHEME}:/{session_id}/{side}/{rel}"


__all__ = ["ChangeSets", "FileEdit", "Plan", "RawHunk", "Scope", "merge_texts", "uri_of"]
