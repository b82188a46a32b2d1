"""The one table of models zwarm-ls knows: which agent CLI runs each, its aliases, its
context window and its price. `costs.py` prices usage from it; `delegate --model`, the
daemon's `zwarm/delegate`, the REPL and `zwarm-ls models` detect the adapter from it.

Prices are US dollars per million tokens, as the providers publish them.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from .errors import InvalidParams

ADAPTERS = ("codex", "claude")


@dataclass(frozen=True)
class Price:
    """US dollars per million tokens."""

    input: float
    output: float
    cached_input: float
    cache_write: float | None = None
    # Codex counts cached tokens inside input_tokens; Claude reports them beside it.
    includes_cached_in_input: bool = True


def _anthropic(inp: float, out: float) -> Price:
    return Price(inp, out, cached_input=inp * 0.1, cache_write=inp * 1.25,
                 includes_cached_in_input=False)


@dataclass(frozen=True)
class ModelInfo:
    name: str  # what the CLI is given
    adapter: str
    price: Price
    context_window: int
    aliases: tuple[str, ...] = ()
    description: str = ""
    default: bool = False  # the adapter's default model

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


MODELS: tuple[ModelInfo, ...] = (
    ModelInfo("gpt-5.1-codex-mini", "codex", Price(0.25, 2.00, 0.025), 400_000,
              ("codex-mini", "mini", "5.1-codex-mini"), "fast and cheap", default=True),
    ModelInfo("gpt-5.1-codex", "codex", Price(1.25, 10.00, 0.125), 400_000,
              ("codex", "codex-full", "5.1-codex"), "the 5.1 coding model"),
    ModelInfo("gpt-5.1-codex-max", "codex", Price(1.25, 10.00, 0.125), 400_000,
              ("codex-max", "max", "5.1-codex-max"), "long-horizon coding"),
    ModelInfo("gpt-5.2-codex", "codex", Price(1.50, 12.00, 0.15), 400_000,
              ("5.2", "5.2-codex", "codex-5.2"), "zwarm 3.10's default"),
    ModelInfo("gpt-5.2", "codex", Price(2.00, 16.00, 0.20), 400_000,
              ("5.2-think", "gpt5.2"), "general model, deep reasoning"),
    ModelInfo("gpt-5", "codex", Price(1.25, 10.00, 0.125), 400_000, ("gpt5",),
              "general model (also an orchestrator model)"),
    ModelInfo("gpt-5-mini", "codex", Price(0.25, 2.00, 0.025), 400_000, ("gpt5-mini",),
              "small general model (the orchestrator's default)"),
    ModelInfo("sonnet", "claude", _anthropic(3.00, 15.00), 200_000,
              ("claude-sonnet", "claude-4-sonnet", "sonnet-4.5"), "Claude Sonnet", default=True),
    ModelInfo("opus", "claude", _anthropic(15.00, 75.00), 200_000,
              ("claude-opus", "claude-4-opus"), "Claude Opus"),
    ModelInfo("haiku", "claude", _anthropic(1.00, 5.00), 200_000,
              ("claude-haiku", "claude-4-haiku"), "Claude Haiku, fast"),
)

_BY_NAME = {n.lower(): m for m in MODELS for n in m.names}
# Dated and versioned provider names (claude-sonnet-4-5-20250929) belong to their family.
_CLAUDE_FAMILIES = ("opus", "sonnet", "haiku")
# Names a CLI accepts without our knowing their price: OpenAI models run on codex.
_CODEX_PREFIXES = ("gpt-", "o1", "o3", "o4", "codex-")


class UnknownModel(InvalidParams):
    """A model no adapter is known to run, given without --adapter."""


def lookup(model: str | None) -> ModelInfo | None:
    """The table's entry for a name as users and CLIs spell it, or None."""
    if not model:
        return None
    name = model.strip().lower()
    if name in _BY_NAME:
        return _BY_NAME[name]
    for family in _CLAUDE_FAMILIES:
        if family in name:
            return _BY_NAME[family]
    # gpt-5.1-codex-mini-2026… → the longest known name it starts with.
    prefixes = [m for m in MODELS if name.startswith(m.name)]
    return max(prefixes, key=lambda m: len(m.name)) if prefixes else None


def adapter_for_model(model: str) -> str | None:
    """The agent CLI that runs `model` ('codex' or 'claude'), or None if nobody knows."""
    info = lookup(model)
    if info is not None:
        return info.adapter
    name = model.strip().lower()
    if name.startswith("claude"):
        return "claude"
    if name.startswith(_CODEX_PREFIXES):
        return "codex"
    return None


def canonical(model: str) -> str:
    """The name to hand the CLI: an alias becomes its model, anything else stays as given
    (a dated provider name is more precise than our family entry)."""
    info = _BY_NAME.get(model.strip().lower())
    return info.name if info is not None else model


def close_matches(model: str, adapter: str | None = None) -> list[str]:
    names = [n for m in MODELS if adapter in (None, m.adapter) for n in m.names]
    return difflib.get_close_matches(model.strip().lower(), names, n=4, cutoff=0.5)


def resolve(model: str | None, adapter: str | None) -> tuple[str | None, str | None]:
    """(adapter, model) for a delegate: the adapter detected from the model when none is
    given, the alias resolved. An unknown model without an adapter, or a model that runs
    on the other adapter, is an error naming what would work."""
    if not model:
        return adapter, None
    detected = adapter_for_model(model)
    if adapter is None:
        if detected is None:
            near = close_matches(model)
            raise UnknownModel(
                f"unknown model '{model}'" + (f"; did you mean {', '.join(near)}?" if near
                                              else ""),
                hint="`zwarm-ls models` lists the known models; give --adapter codex|claude "
                     "to run another model")
        return detected, canonical(model)
    if detected is not None and detected != adapter:
        raise UnknownModel(f"model '{model}' runs on {detected}, not {adapter}",
                           hint=f"drop --adapter, or use --adapter {detected}")
    return adapter, canonical(model)


def default_model(adapter: str) -> str | None:
    return next((m.name for m in MODELS if m.adapter == adapter and m.default), None)
