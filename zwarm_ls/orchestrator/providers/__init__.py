"""One module per LLM provider: its client, its history dialect and its pairing rules,
as the agent CLIs have one adapter module each. Each is imported on first use (the SDKs
are slow to import)."""

from __future__ import annotations

from typing import Literal

from ...config import OrchestratorConfig
from ..llm import LLMClient

ReasoningEffort = Literal["minimal", "low", "medium", "high"]
REASONING_EFFORTS: tuple[str, ...] = ("minimal", "low", "medium", "high")


def make_client(config: OrchestratorConfig,
                reasoning_effort: ReasoningEffort | None = None) -> LLMClient:
    """The client for `[orchestrator] provider`, configured from the config and env.
    `reasoning_effort` (else `[orchestrator] reasoning_effort`) is OpenAI's
    `reasoning.effort`, and an extended-thinking budget for Anthropic."""
    effort = reasoning_effort or config.reasoning_effort
    if config.provider == "anthropic":
        from .anthropic import AnthropicClient

        return AnthropicClient(config, effort)
    from .openai import OpenAIClient

    return OpenAIClient(config, effort)
