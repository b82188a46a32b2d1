"""The VS Code extension's own checks, run from pytest so one test command covers them:
strict TypeScript type checking and the vitest unit tests of its pure modules."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.requirements import missing

EXT = Path(__file__).resolve().parents[2] / "editor-clients" / "vscode"
BIN = EXT / "node_modules" / ".bin"

pytestmark = pytest.mark.vscode


def require_toolchain() -> None:
    if (BIN / "vitest").exists() and (BIN / "tsc").exists():
        return
    missing(f"the extension's node_modules are missing in {EXT} (run .ci/install-vscode.sh)")


def run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=EXT, capture_output=True, text=True, timeout=180,
                          env={**os.environ, "NO_COLOR": "1", "CI": "1"})


def test_typescript_is_strict_and_typechecks() -> None:
    require_toolchain()
    proc = run(str(BIN / "tsc"), "--noEmit", "-p", ".")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_vitest_unit_tests_pass() -> None:
    require_toolchain()
    proc = run(str(BIN / "vitest"), "run")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Tests" in proc.stdout and " passed" in proc.stdout, proc.stdout
