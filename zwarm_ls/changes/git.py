"""Running the git CLI for change sets: no shell, bounded, and deaf to configuration that
could run a program (hooks, fsmonitor, filters, pagers) or rewrite bytes (CRLF).

Two kinds of call:
- shadow calls (`shadow_env`): the private `.zwarm/shadow.git`, never the user's
  global or system config;
- user-repo calls (`user_repo_args`): only for worktrees, with hooks and fsmonitor off.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from ..errors import ExecutorMissing, StoreError

MIN_GIT = (2, 32)  # GIT_CONFIG_GLOBAL arrived in 2.32
GIT_TIMEOUT_S = 120.0

# Applied to every call: nothing from a repository or a user config may run a program
# or change bytes on the way in or out.
SAFE_CONFIG = (
    "-c", "core.hooksPath=/dev/null",
    "-c", "core.fsmonitor=false",
    "-c", "core.autocrlf=false",
    "-c", "core.safecrlf=false",
    "-c", "core.pager=cat",
    "-c", "core.quotepath=false",
    "-c", "gc.auto=0",
    "-c", "maintenance.auto=false",
    "-c", "commit.gpgSign=false",
    "-c", "diff.external=",
    "-c", "core.untrackedCache=true",
)

IDENTITY = {
    "GIT_AUTHOR_NAME": "zwarm",
    "GIT_AUTHOR_EMAIL": "zwarm@zwarm",
    "GIT_COMMITTER_NAME": "zwarm-ls",
    "GIT_COMMITTER_EMAIL": "zwarm-ls@zwarm",
}


class GitError(StoreError):
    """A git command failed; the message names the command and git's own words."""


@functools.cache
def git_binary() -> str:
    found = shutil.which("git")
    if found is None:
        raise ExecutorMissing("git was not found on PATH; change sets need git 2.32 or newer",
                              hint="install git (https://git-scm.com) and restart the daemon")
    return found


@functools.cache
def git_version() -> tuple[int, int]:
    out = subprocess.run([git_binary(), "--version"], stdin=subprocess.DEVNULL,
                         capture_output=True, text=True, timeout=10, check=False).stdout
    try:
        parts = out.split()[2].split(".")
        version = (int(parts[0]), int(parts[1]))
    except (IndexError, ValueError):
        raise GitError(f"cannot read git's version from {out!r}") from None
    if version < MIN_GIT:
        raise ExecutorMissing(
            f"git {version[0]}.{version[1]} is too old; change sets need 2.32 or newer",
            hint="upgrade git and restart the daemon")
    return version


def _base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(LC_ALL="C", GIT_TERMINAL_PROMPT="0", GIT_OPTIONAL_LOCKS="0",
               GIT_LFS_SKIP_SMUDGE="1")
    return env


def shadow_env(git_dir: Path, work_tree: Path | None = None,
               index_file: Path | None = None) -> dict[str, str]:
    """The environment of a shadow call: no global or system config, explicit repo."""
    env = _base_env()
    env.update(IDENTITY)
    env.update(GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1", GIT_DIR=str(git_dir))
    if work_tree is not None:
        env["GIT_WORK_TREE"] = str(work_tree)
    if index_file is not None:
        env["GIT_INDEX_FILE"] = str(index_file)
    return env


def user_repo_env(index_file: Path | None = None) -> dict[str, str]:
    """The environment of a call in the user's own repository (worktrees only)."""
    env = _base_env()
    env.update(IDENTITY)
    if index_file is not None:
        env["GIT_INDEX_FILE"] = str(index_file)
    return env


def run(args: Sequence[str], *, env: Mapping[str, str], cwd: Path | None = None,
        stdin: bytes | None = None, ok_codes: Sequence[int] = (0,)) -> subprocess.CompletedProcess:
    """Run `git <args>`; raise GitError (with git's stderr) on an unexpected exit code."""
    git_version()
    argv = [git_binary(), *SAFE_CONFIG, *args]
    try:
        # Never the daemon's own stdin: in stdio mode it carries the client's messages,
        # and a git that read it (a credential helper, a pager) would take them.
        feed = {"input": stdin} if stdin is not None else {"stdin": subprocess.DEVNULL}
        proc = subprocess.run(argv, capture_output=True, env=dict(env), cwd=cwd,
                              timeout=GIT_TIMEOUT_S, check=False, **feed)
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[0]} did not finish in {GIT_TIMEOUT_S:.0f} s") from None
    except OSError as exc:
        raise GitError(f"cannot run git: {exc}") from None
    if proc.returncode not in ok_codes:
        detail = proc.stderr.decode(errors="replace").strip().splitlines()
        said = detail[-1] if detail else f"exit code {proc.returncode}"
        raise GitError(f"git {' '.join(args[:2])} failed: {said}")
    return proc


def out(args: Sequence[str], **kwargs) -> str:
    return run(args, **kwargs).stdout.decode(errors="surrogateescape").strip()
