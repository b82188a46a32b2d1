"""Model prices and cost estimates.

Codex reports `input_tokens` *including* `cached_input_tokens`, so cached tokens are
billed at the cached price and only the rest at the full price. Claude reports cache
reads and cache writes separately from `input_tokens`, and its own `total_cost_usd`,
which is preferred whenever present (the caller decides that).
"""

from __future__ import annotations

from .models import Price, lookup
from .protocol import TokenUsage


def price_for(model: str | None) -> Price | None:
    """The price of a model name as users and CLIs spell it (models.py's table)."""
    info = lookup(model)
    return info.price if info is not None else None


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
