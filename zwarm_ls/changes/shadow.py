"""The shadow repository: snapshots of working trees as commits in `.zwarm/shadow.git`.

One bare repository per store, one index file per working tree (so `git add -A` costs
O(changed files) through git's stat cache), and one linear history per working tree
(`refs/zwarm/trees/<key>`): every snapshot's parent is the tree's previous snapshot, and
its author says who made the difference — `user`, or `agent` with the session and turn
in the e-mail. `git blame` on that history is the provenance of every line.

The user's own `.git` is never read or written here: the shadow repo has its own object
database, index files and refs, and every call runs without the user's git config.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from . import git

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
EXCLUDES = "# written by zwarm-ls: never snapshot the store itself\n.zwarm/\n"


@dataclass(frozen=True)
class Author:
    kind: Literal["agent", "user"]
    session_id: str | None = None
    turn: int | None = None

    def env(self) -> dict[str, str]:
        email = f"{self.session_id}.{self.turn}@zwarm" if self.kind == "agent" else "user@zwarm"
        return {"GIT_AUTHOR_NAME": self.kind, "GIT_AUTHOR_EMAIL": email}


def parse_author_mail(mail: str) -> Author:
    """The inverse of `Author.env`'s e-mail (`<sid.turn@zwarm>` or `<user@zwarm>`)."""
    local = mail.strip("<>").split("@", 1)[0]
    sid, _, turn = local.rpartition(".")
    if sid and turn.isdigit():
        return Author("agent", sid, int(turn))
    return Author("user")


@dataclass
class Snapshot:
    commit: str
    changed: bool
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)


def tree_key(root: Path) -> str:
    return hashlib.sha1(str(root.resolve()).encode()).hexdigest()[:16]


class Shadow:
    def __init__(self, zwarm_dir: Path, max_file_bytes: int = 5 * 1024 * 1024):
        self.git_dir = zwarm_dir / "shadow.git"
        self.state_dir = zwarm_dir / "shadow"
        self.max_file_bytes = max_file_bytes

    # Repository and locks

    def ensure(self) -> None:
        if (self.git_dir / "HEAD").is_file():
            return
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with self._lock("init"):
            if (self.git_dir / "HEAD").is_file():
                return
            git.run(["init", "-q", "--bare", "--template=", str(self.git_dir)],
                    env=git.shadow_env(self.git_dir))
            info = self.git_dir / "info"
            info.mkdir(exist_ok=True)
            (info / "exclude").write_text(EXCLUDES)
        ignore = self.git_dir.parent / ".gitignore"
        if not ignore.exists():  # keeps the store out of the user's `git status`
            ignore.write_text("*\n")

    @contextlib.contextmanager
    def _lock(self, name: str) -> Iterator[None]:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with open(self.state_dir / f"{name}.lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def env(self, root: Path | None = None, index_file: Path | None = None) -> dict[str, str]:
        return git.shadow_env(self.git_dir, root, index_file)

    def run(self, args: Sequence[str], root: Path | None = None, index_file: Path | None = None,
            **kwargs):
        return git.run(args, env=self.env(root, index_file), **kwargs)

    def out(self, args: Sequence[str], **kwargs) -> str:
        return git.out(args, env=self.env(), **kwargs)

    # Refs and objects

    @staticmethod
    def chain_ref(root: Path) -> str:
        return f"refs/zwarm/trees/{tree_key(root)}"

    def rev(self, ref: str) -> str | None:
        proc = self.run(["rev-parse", "-q", "--verify", f"{ref}^{{commit}}"], ok_codes=(0, 1, 128))
        sha = proc.stdout.decode().strip()
        return sha if proc.returncode == 0 and sha else None

    def refs(self, prefix: str) -> dict[str, str]:
        """Every ref under `prefix` and the commit it points at."""
        listing = self.out(["for-each-ref", "--format=%(refname) %(objectname)", prefix])
        return dict(line.split(" ", 1) for line in listing.splitlines() if " " in line)

    def set_ref(self, ref: str, commit: str, old: str | None = None) -> None:
        """Compare-and-swap when `old` is given, so a racing writer is noticed, not lost."""
        args = ["update-ref", ref, commit] + ([old] if old else [])
        self.run(args)

    def delete_refs(self, prefix: str) -> None:
        refs = self.out(["for-each-ref", "--format=%(refname)", prefix]).splitlines()
        if refs:
            stdin = "".join(f"delete {r}\n" for r in refs).encode()
            self.run(["update-ref", "--stdin"], stdin=stdin)

    def read_blob(self, commit: str, path: str) -> bytes | None:
        proc = self.run(["cat-file", "blob", f"{commit}:{path}"], ok_codes=(0, 128))
        return proc.stdout if proc.returncode == 0 else None

    def tree_of(self, commit: str) -> str:
        return self.out(["rev-parse", f"{commit}^{{tree}}"])

    # Snapshots

    def index_file(self, root: Path) -> Path:
        return self.state_dir / f"index-{tree_key(root)}"

    def snapshot(self, root: Path, author: Author, label: str,
                 paths: Sequence[str] | None = None) -> Snapshot:
        """Record `root` (or only `paths` under it) as the next commit of its history.

        No commit is made when nothing changed; the snapshot is then the previous one.
        """
        self.ensure()
        root = root.resolve()
        with self._lock(tree_key(root)):
            index = self.index_file(root)
            spec = list(paths) if paths else ["."]
            skipped = self._oversized(root, index, spec)
            excludes = [f":(exclude,literal){p}" for p, _ in skipped]
            self.run(["add", "-A", "--ignore-errors", "--no-warn-embedded-repo", "--", *spec,
                      *excludes], root, index, cwd=root, ok_codes=(0, 1, 128))
            skipped += self._drop_nested_repos(root, index)
            tree = self.run(["write-tree"], root, index).stdout.decode().strip()
            return self._commit(root, tree, author, label, skipped)

    def commit_files(self, root: Path, files: dict[str, bytes | None], author: Author,
                     label: str) -> str:
        """A commit on `root`'s history with `files` replaced (None: removed), without
        touching the disk: used when an apply reaches an unsaved editor buffer."""
        self.ensure()
        root = root.resolve()
        with self._lock(tree_key(root)), self._temp_index() as index:
            parent = self.rev(self.chain_ref(root))
            self.run(["read-tree", parent or EMPTY_TREE], index_file=index)
            # --index-info needs no work tree (the shadow repo is bare); mode 0 removes.
            entries = []
            for path, content in files.items():
                if content is None:
                    entries.append(f"0 {'0' * 40}\t{path}\n")
                    continue
                blob = self.run(["hash-object", "-w", "--stdin"], stdin=content).stdout
                entries.append(f"100644 {blob.decode().strip()}\t{path}\n")
            self.run(["update-index", "--index-info"], index_file=index,
                     stdin="".join(entries).encode())
            tree = self.run(["write-tree"], index_file=index).stdout.decode().strip()
            return self._commit(root, tree, author, label, []).commit

    def commit_detached(self, parent: str, path: str, content: bytes) -> str:
        """An unreferenced commit of `parent` with one file replaced, authored by the
        user: what blame runs on for a buffer with unsaved edits."""
        with self._temp_index() as index:
            self.run(["read-tree", parent], index_file=index)
            blob = self.run(["hash-object", "-w", "--stdin"], stdin=content).stdout
            self.run(["update-index", "--add", "--cacheinfo",
                      f"100644,{blob.decode().strip()},{path}"], index_file=index)
            tree = self.run(["write-tree"], index_file=index).stdout.decode().strip()
        env = {**self.env(), **Author("user").env()}
        return git.out(["commit-tree", tree, "-p", parent, "-m", "zwarm-ls unsaved buffer"],
                       env=env)

    def _commit(self, root: Path, tree: str, author: Author, label: str,
                skipped: list[tuple[str, str]]) -> Snapshot:
        ref = self.chain_ref(root)
        parent = self.rev(ref)
        if parent is not None and self.tree_of(parent) == tree:
            return Snapshot(parent, False, skipped)
        message = f"{label}\n\nzwarm-root: {root}\n"
        args = ["commit-tree", tree, "-m", message] + (["-p", parent] if parent else [])
        env = {**self.env(), **author.env()}
        commit = git.out(args, env=env)
        self.set_ref(ref, commit, parent)
        return Snapshot(commit, True, skipped)

    def _oversized(self, root: Path, index: Path, spec: list[str]) -> list[tuple[str, str]]:
        """New or modified files over the size cap, and nested repositories (`dir/`)."""
        listing = self.run(["ls-files", "-z", "-o", "-m", "--exclude-standard", "--directory",
                            "--no-empty-directory", "--", *spec], root, index, cwd=root,
                           ok_codes=(0, 128)).stdout
        skipped: list[tuple[str, str]] = []
        for raw in filter(None, listing.split(b"\0")):
            rel = raw.decode(errors="surrogateescape")
            full = root / rel
            if rel.endswith("/"):
                if (full / ".git").exists():
                    skipped.append((rel.rstrip("/"), "nested repository"))
                continue
            with contextlib.suppress(OSError):
                if full.is_file() and full.stat().st_size > self.max_file_bytes:
                    mb = self.max_file_bytes / 1024 / 1024
                    skipped.append((rel, f"larger than the {mb:.3g} MB snapshot cap"))
        return skipped

    def _drop_nested_repos(self, root: Path, index: Path) -> list[tuple[str, str]]:
        """`git add` records a nested repository as a gitlink; leave it out instead."""
        staged = self.run(["ls-files", "-s", "-z"], root, index).stdout
        links = [e.split(b"\t", 1)[1] for e in staged.split(b"\0")
                 if e.startswith(b"160000 ")]
        if not links:
            return []
        self.run(["update-index", "--force-remove", "-z", "--stdin"], root, index,
                 stdin=b"\0".join(links) + b"\0")
        return [(p.decode(errors="surrogateescape"), "nested repository") for p in links]

    @contextlib.contextmanager
    def _temp_index(self) -> Iterator[Path]:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix="tmp-index-", dir=self.state_dir)
        os.close(fd)
        os.unlink(name)  # git wants to create the index itself
        try:
            yield Path(name)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name)

    def temp_index(self):
        return self._temp_index()
