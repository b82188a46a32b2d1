"""Small text helpers shared by parsers, renderers and notifications (a leaf module)."""

from __future__ import annotations

SUMMARY_CHARS = 200


def clip(text: str, limit: int = SUMMARY_CHARS) -> str:
    """One line of at most `limit` characters, for summaries and previews."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
