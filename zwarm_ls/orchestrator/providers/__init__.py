"""One module per LLM provider: its client, its history dialect and its pairing rules,
as the agent CLIs have one adapter module each. Each is imported on first use (the SDKs
are slow to import)."""

from __future__ import annotations

from ...config import OrchestratorConfig
from ..llm import LLMClient


def make_client(config: OrchestratorConfig) -> LLMClient:
    """The client for `[orchestrator] provider`, configured from the config and env."""
    if config.provider == "anthropic":
        from .anthropic import AnthropicClient

        return AnthropicClient(config)
    from .openai import OpenAIClient

    return OpenAIClient(config)
