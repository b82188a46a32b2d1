"""Where tests leave what a person may want to look at afterwards (screenshots, screen
dumps, editor logs, the JUnit report): $ZWARM_ARTIFACTS, by default `artifacts/` in the
checkout, which git ignores. Nothing is written outside the tree but temporary files."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ROOT = Path(os.environ.get("ZWARM_ARTIFACTS") or REPO / "artifacts")
