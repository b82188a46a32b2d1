"""One module per LLM provider: its client, its history dialect and its pairing rules,
as the agent CLIs have one adapter module each. Each is imported on first use (the SDKs
are slow to import)."""

from __future__ import annotations

from typing import Literal

from ...config import OrchestratorConfig
from ...errors import InvalidParams
from ..llm import LLMClient

ReasoningEffort = Literal["minimal", "low", "medium", "high"]
REASONING_EFFORTS: tuple[str, ...] = ("minimal", "low", "medium", "high")


def make_client(config: OrchestratorConfig,
                reasoning_effort: ReasoningEffort | None = None) -> LLMClient:
    """The client for `[orchestrator] provider`, configured from the config and env."""
    if config.provider == "anthropic":
        if reasoning_effort:
            # Extended thinking would need its blocks kept in the history across tool
            # calls, which the provider-neutral history does not carry.
            raise InvalidParams("a reasoning effort is an OpenAI setting; the anthropic "
                                "provider has none", hint="leave out --reasoning-effort")
        from .anthropic import AnthropicClient

        return AnthropicClient(config)
    from .openai import OpenAIClient

    return OpenAIClient(config, reasoning_effort)
