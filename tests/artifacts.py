"""Where tests leave what a person may want to look at afterwards (screenshots, screen
dumps, editor logs): outside the source tree, in $ZWARM_ARTIFACTS or a temp folder."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

ROOT = Path(os.environ.get("ZWARM_ARTIFACTS") or Path(tempfile.gettempdir()) /
            "zwarm-ls-artifacts")
