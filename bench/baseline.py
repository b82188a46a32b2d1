"""zwarm 3.9.0's own session managers, loaded at run time as the baseline.

The wheel is fetched once with pip into the (git-ignored) cache dir and unpacked there.
Only `zwarm/sessions/` is imported: it needs nothing but the standard library, whereas
`zwarm/__init__.py` pulls in the orchestrator and its LLM stack. A stub `zwarm` package
whose `__path__` points at the unpacked tree lets `zwarm.sessions` import without
running that `__init__`.

The query helpers below issue the same manager calls, in the same order, as zwarm 3.9's
orchestrator tools (`zwarm/tools/delegation.py`) do, so the baseline is what an agent
asking zwarm "peek / check / list" actually costs. They are a description of that call
pattern, not a copy of the tools.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import types
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

VERSION = "3.9.0"
WHEEL = f"zwarm-{VERSION}-py3-none-any.whl"
REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / ".ci-cache" / "bench"


def ensure_wheel(cache: Path = CACHE) -> Path:
    """Download the wheel unless it is cached (idempotent; PyPI via pip)."""
    wheel = cache / WHEEL
    if not wheel.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", f"zwarm=={VERSION}",
                        "--python-version", "3.13", "--only-binary=:all:", "--no-deps",
                        "--quiet", "-d", str(cache)], check=True)
    return wheel


def unpack(cache: Path = CACHE) -> Path:
    """Extract `zwarm/sessions/*` from the wheel; returns the directory holding `zwarm/`."""
    target = cache / f"zwarm-{VERSION}"
    if not (target / "zwarm" / "sessions" / "manager.py").is_file():
        with zipfile.ZipFile(ensure_wheel(cache)) as wheel:
            members = [n for n in wheel.namelist() if n.startswith("zwarm/sessions/")]
            wheel.extractall(target, members)
    return target


def load_sessions(cache: Path = CACHE) -> types.ModuleType:
    """Import zwarm 3.9's `zwarm.sessions` (and its claude module) from the cache."""
    existing = sys.modules.get("zwarm.sessions")
    if existing is not None:
        return existing
    root = unpack(cache)
    stub = types.ModuleType("zwarm")
    stub.__path__ = [str(root / "zwarm")]  # a namespace-like package: no __init__ runs
    sys.modules["zwarm"] = stub
    sessions = importlib.import_module("zwarm.sessions")
    importlib.import_module("zwarm.sessions.claude")
    return sessions


@dataclass
class Zwarm:
    """One manager per adapter over a store, as zwarm's interactive REPL builds them."""

    managers: dict[str, Any]

    @classmethod
    def open(cls, project: Path) -> Zwarm:
        sessions = load_sessions()
        claude = sys.modules["zwarm.sessions.claude"]
        state = project / ".zwarm"
        return cls({"codex": sessions.CodexSessionManager(state),
                    "claude": claude.ClaudeSessionManager(state)})

    def peek(self, session_id: str, adapter: str) -> str | None:
        """peek_session: get_session, then get_messages (re-parses every turn file)."""
        manager = self.managers[adapter]
        session = manager.get_session(session_id)
        if session is None:
            raise KeyError(session_id)
        return _last_assistant(manager.get_messages(session_id))

    def check(self, session_id: str, adapter: str) -> dict[str, Any]:
        """check_session: get_session, get_messages, and the current turn's log path."""
        manager = self.managers[adapter]
        session = manager.get_session(session_id)
        if session is None:
            raise KeyError(session_id)
        messages = manager.get_messages(session_id)
        return {"status": session.status.value, "is_running": session.is_running,
                "message_count": len(messages), "response": _last_assistant(messages),
                "tokens": session.token_usage, "runtime": session.runtime,
                "log_file": str(manager._output_path(session.id, session.turn))}

    def list_with_messages(self) -> int:
        """list_sessions tool: every session, then get_messages for each one's last reply.
        Both adapters' managers, so the result covers the same sessions zwarm-ls lists."""
        count = 0
        for manager in self.managers.values():
            for session in manager.list_sessions():
                _last_assistant(manager.get_messages(session.id))
                count += 1
        return count

    def list_meta(self) -> int:
        """The REPL's `ls`: list_sessions on every manager, meta.json only."""
        return sum(len(m.list_sessions()) for m in self.managers.values())


def _last_assistant(messages: list[Any]) -> str | None:
    return next((m.content for m in reversed(messages) if m.role == "assistant"), None)
