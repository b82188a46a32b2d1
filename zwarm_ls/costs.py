"""Model prices and cost estimates.

Codex reports `input_tokens` *including* `cached_input_tokens`, so cached tokens are
billed at the cached price and only the rest at the full price. Claude reports cache
reads and cache writes separately from `input_tokens`, and its own `total_cost_usd`,
which is preferred whenever present (the caller decides that).
"""

from __future__ import annotations

from dataclasses import dataclass

from .protocol import TokenUsage


@dataclass(frozen=True)
class Price:
    """US dollars per million tokens."""

    input: float
    output: float
    cached_input: float
    cache_write: float | None = None
    includes_cached_in_input: bool = True


def _anthropic(inp: float, out: float) -> Price:
    return Price(inp, out, cached_input=inp * 0.1, cache_write=inp * 1.25,
                 includes_cached_in_input=False)


PRICES: dict[str, Price] = {
    "gpt-5.1-codex-mini": Price(0.25, 2.00, 0.025),
    "gpt-5.1-codex": Price(1.25, 10.00, 0.125),
    "gpt-5.1-codex-max": Price(1.25, 10.00, 0.125),
    "gpt-5.2-codex": Price(1.50, 12.00, 0.15),
    "gpt-5.2": Price(2.00, 16.00, 0.20),
    "sonnet": _anthropic(3.00, 15.00),
    "opus": _anthropic(15.00, 75.00),
    "haiku": _anthropic(1.00, 5.00),
}

ALIASES: dict[str, str] = {
    "codex-mini": "gpt-5.1-codex-mini",
    "mini": "gpt-5.1-codex-mini",
    "codex": "gpt-5.1-codex",
    "codex-max": "gpt-5.1-codex-max",
    "5.2": "gpt-5.2-codex",
    "5.2-codex": "gpt-5.2-codex",
    "claude-sonnet": "sonnet",
    "claude-opus": "opus",
    "claude-haiku": "haiku",
}


def price_for(model: str | None) -> Price | None:
    """The price of a model name as users and CLIs spell it, or None if unknown."""
    if not model:
        return None
    name = model.lower().strip()
    name = ALIASES.get(name, name)
    if name in PRICES:
        return PRICES[name]
    for family in ("opus", "sonnet", "haiku"):  # claude-sonnet-4-5-20250929 and friends
        if family in name:
            return PRICES[family]
    prefixes = [p for p in PRICES if name.startswith(p)]
    return PRICES[max(prefixes, key=len)] if prefixes else None


def estimate_cost(model: str | None, usage: TokenUsage) -> float | None:
    """Dollar cost of `usage` on `model`; None when the model's price is unknown."""
    price = price_for(model)
    if price is None:
        return None
    cached = usage.cached_input_tokens
    uncached = usage.input_tokens - cached if price.includes_cached_in_input else usage.input_tokens
    cost = (
        max(uncached, 0) * price.input
        + cached * price.cached_input
        + usage.cache_creation_input_tokens * (price.cache_write or price.input)
        + usage.output_tokens * price.output
    )
    return round(cost / 1_000_000, 6)


def format_cost(cost: float | None) -> str:
    if cost is None:
        return "?"
    if cost < 0.01:
        return f"${cost:.4f}"
    if cost < 1:
        return f"${cost:.3f}"
    return f"${cost:.2f}"
