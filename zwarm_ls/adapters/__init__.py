"""Agent CLI adapters, one module per CLI."""

from __future__ import annotations

from ..errors import InvalidParams
from .base import Adapter, Outcome, StepDraft, TurnState
from .claude import ClaudeAdapter
from .codex import CodexAdapter

ADAPTERS: dict[str, Adapter] = {a.name: a for a in (CodexAdapter(), ClaudeAdapter())}


def get_adapter(name: str | None) -> Adapter:
    """The adapter called `name`; sessions without one are codex sessions (zwarm rule)."""
    adapter = ADAPTERS.get(name or "codex")
    if adapter is None:
        raise InvalidParams(f"unknown adapter '{name}'",
                            hint=f"use one of: {', '.join(sorted(ADAPTERS))}")
    return adapter


__all__ = ["ADAPTERS", "Adapter", "Outcome", "StepDraft", "TurnState", "get_adapter"]
