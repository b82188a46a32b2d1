"""Worktree isolation: a session's own git worktree of the user's repository, started
from what the user sees now (uncommitted edits included), on branch `zwarm/<short id>`.

The base is a commit built with a temporary index (parent HEAD), like a stash that no
ref or stash list ever sees; the user's index, HEAD and working tree are untouched.
Registration and the `zwarm/*` branch are the only things added to their `.git`, and
`remove` takes both away. Every writing call checks the top level it runs in, so an
emptied worktree folder never lets git fall through to the user's checkout.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import InvalidParams
from . import git

BRANCH_PREFIX = "zwarm/"


@dataclass
class Worktree:
    repo: Path  # the user's repository top level
    path: Path  # the worktree's top level
    branch: str
    base_commit: str
    # The project root inside the worktree (the repo may be bigger than the project).
    agent_root: Path

    def dump(self) -> dict[str, str]:
        return {"repo": str(self.repo), "path": str(self.path), "branch": self.branch,
                "base_commit": self.base_commit, "agent_root": str(self.agent_root)}

    @classmethod
    def load(cls, data: dict) -> Worktree:
        return cls(repo=Path(data["repo"]), path=Path(data["path"]), branch=data["branch"],
                   base_commit=data["base_commit"], agent_root=Path(data["agent_root"]))


def repo_top(directory: Path) -> Path | None:
    """The top level of the git repository `directory` is in, or None."""
    proc = git.run(["rev-parse", "--show-toplevel"], env=git.user_repo_env(), cwd=directory,
                   ok_codes=(0, 128))
    top = proc.stdout.decode().strip()
    return Path(top).resolve() if proc.returncode == 0 and top else None


def _user_git(repo: Path, args: list[str], index_file: Path | None = None, **kwargs) -> str:
    return git.out(["-C", str(repo), *args], env=git.user_repo_env(index_file), **kwargs)


def _base_commit(repo: Path, scratch: Path, max_file_bytes: int) -> str:
    """A commit of the user's working tree as it is now (tracked changes and new files
    that are not ignored), parent HEAD. Built with a temporary index."""
    fd, name = tempfile.mkstemp(prefix="base-index-", dir=scratch)
    os.close(fd)
    os.unlink(name)
    index = Path(name)
    try:
        head = git.run(["-C", str(repo), "rev-parse", "-q", "--verify", "HEAD^{commit}"],
                       env=git.user_repo_env(), ok_codes=(0, 1, 128)).stdout.decode().strip()
        if head:
            _user_git(repo, ["read-tree", head], index)
        untracked = git.run(["-C", str(repo), "ls-files", "-z", "-o", "--exclude-standard"],
                            env=git.user_repo_env(index)).stdout
        excludes = [":(exclude).zwarm"]
        for raw in filter(None, untracked.split(b"\0")):
            rel = raw.decode(errors="surrogateescape")
            with contextlib.suppress(OSError):
                if (repo / rel).stat().st_size > max_file_bytes:
                    excludes.append(f":(exclude,literal){rel}")
        git.run(["-C", str(repo), "add", "-A", "--ignore-errors", "--no-warn-embedded-repo",
                 "--", ".", *excludes], env=git.user_repo_env(index), ok_codes=(0, 1))
        tree = _user_git(repo, ["write-tree"], index)
        parents = ["-p", head] if head else []
        return _user_git(repo, ["commit-tree", tree, *parents, "-m",
                                "zwarm-ls: base of an isolated session"])
    finally:
        with contextlib.suppress(FileNotFoundError):
            index.unlink()


def create(project_root: Path, zwarm_dir: Path, short_id: str,
           max_file_bytes: int) -> Worktree:
    repo = repo_top(project_root)
    if repo is None:
        raise InvalidParams(f"'{project_root}' is not in a git repository, so it cannot have "
                            "worktree sessions", hint="use isolation 'inplace' here")
    scratch = zwarm_dir / "shadow"
    scratch.mkdir(parents=True, exist_ok=True)
    base = _base_commit(repo, scratch, max_file_bytes)
    path = zwarm_dir / "worktrees" / short_id
    branch = BRANCH_PREFIX + short_id
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        _user_git(repo, ["worktree", "add", "-q", "--no-track", "-b", branch, str(path), base])
    except git.GitError:
        _rollback(repo, path, branch)
        raise
    if repo_top(path) != path.resolve():
        _rollback(repo, path, branch)
        raise InvalidParams(f"the worktree at {path} did not come up as its own checkout")
    rel = project_root.resolve().relative_to(repo)
    return Worktree(repo=repo, path=path.resolve(), branch=branch, base_commit=base,
                    agent_root=(path / rel).resolve())


def _rollback(repo: Path, path: Path, branch: str) -> None:
    with contextlib.suppress(git.GitError):
        _user_git(repo, ["worktree", "remove", "--force", str(path)])
    shutil.rmtree(path, ignore_errors=True)
    with contextlib.suppress(git.GitError):
        _user_git(repo, ["worktree", "prune"])
    with contextlib.suppress(git.GitError):
        _user_git(repo, ["branch", "-D", branch])


def exists(tree: Worktree) -> bool:
    """Whether the worktree is still there as its own checkout (not removed by hand)."""
    return tree.path.is_dir() and (tree.path / ".git").exists() and \
        repo_top(tree.path) == tree.path


def remove(tree: Worktree) -> None:
    """Unregister the worktree and delete its branch; the user's branches are untouched."""
    if not tree.branch.startswith(BRANCH_PREFIX):
        raise InvalidParams(f"refusing to delete branch '{tree.branch}'")
    _rollback(tree.repo, tree.path, tree.branch)
