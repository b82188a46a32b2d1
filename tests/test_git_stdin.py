"""git never reads the daemon's stdin (in stdio mode, the client's messages): a git that
did (a credential helper, a pager, a hostile config) would take them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CHILD = """
import os, sys
from zwarm_ls.changes import git
git.run(["status"], env=dict(os.environ), cwd=sys.argv[1])
"""


def test_git_is_not_given_the_daemons_stdin(tmp_path: Path) -> None:
    fake = tmp_path / "bin" / "git"  # a git that reads whatever stdin it was given
    fake.parent.mkdir()
    stolen = tmp_path / "stolen"
    fake.write_text(f'#!/bin/sh\n[ "$1" = --version ] && echo "git version 2.45.0" && exit 0\n'
                    f'cat > {stolen}\n')
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{fake.parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path)], env=env,
                          input=b'Content-Length: 2\r\n\r\n{}', capture_output=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr.decode()
    assert stolen.read_bytes() == b""  # it ran, and read nothing of ours
