"""The LLM client layer: one small interface, implemented over the official SDKs for the
OpenAI Responses API and the Anthropic Messages API.

`LLMClient.complete(system, items, tools, on_text)` sends the provider-neutral history
(see `history.py`), streams text deltas to `on_text`, and returns the reply as text plus
tool calls with the call's token usage. Retries with exponential backoff are done here,
not by the SDKs (their retries are switched off), so that a stream that breaks halfway is
retried like a 429 or a 5xx, and every attempt is logged.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import logging
import os
import random
from collections.abc import Callable
from typing import Any, Protocol

from pydantic import BaseModel, Field

from ..config import OrchestratorConfig
from ..errors import ZwarmError
from ..protocol import TokenUsage
from .history import Item, ToolCall

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 30.0
RETRY_STATUSES = {408, 409, 429}
DEFAULT_KEY_ENV = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}

TextSink = Callable[[str], None]


class ToolSchema(BaseModel):
    name: str
    description: str
    parameters: dict[str, Any]


class Completion(BaseModel):
    text: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    usage: TokenUsage = Field(default_factory=TokenUsage)
    stop_reason: str | None = None
    attempts: int = 1
    thinking: list[dict[str, Any]] = Field(default_factory=list)  # Anthropic thinking blocks


class LLMError(ZwarmError):
    """The model could not be reached or refused the request; the run stops with this."""


class IncompleteStream(Exception):
    """The stream ended before the provider said the reply was complete."""


class LLMClient(Protocol):
    provider: str
    model: str

    async def complete(self, system: str, items: list[Item], tools: list[ToolSchema],
                       on_text: TextSink | None = None) -> Completion: ...


@functools.cache
def sdk(name: str) -> Any:
    """The SDK module, imported on first use: `openai` and `anthropic` take seconds to
    import, and every daemon start (and so every editor start) would pay for it."""
    return importlib.import_module(name)


def _api_error_types() -> tuple[type[Exception], ...]:
    return sdk("openai").APIError, sdk("anthropic").APIError


def _status_error_types() -> tuple[type[Exception], ...]:
    return sdk("openai").APIStatusError, sdk("anthropic").APIStatusError


def _retry_after(exc: Exception) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    value = headers.get("retry-after") if headers is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def is_retryable(exc: Exception) -> bool:
    """429, 408/409, 5xx, connection trouble and broken streams are worth another try."""
    if isinstance(exc, _status_error_types()):
        status: int = exc.status_code  # type: ignore[attr-defined]
        return status in RETRY_STATUSES or status >= 500
    # Connection errors, SSE `error` events, and transport errors raised mid-stream.
    return isinstance(exc, (*_api_error_types(), IncompleteStream,
                            sdk("httpx2").TransportError))


def describe(provider: str, exc: Exception) -> str:
    if isinstance(exc, _status_error_types()):
        return (f"the {provider} API answered {exc.status_code}: "  # type: ignore[attr-defined]
                f"{exc.message}")  # type: ignore[attr-defined]
    if isinstance(exc, IncompleteStream):
        return f"the {provider} stream ended before the reply was complete"
    return f"calling the {provider} API failed: {type(exc).__name__}: {exc}"


def hint_for(exc: Exception, config: OrchestratorConfig) -> str:
    status = getattr(exc, "status_code", None)
    if status in (401, 403):
        return "check the API key (and [orchestrator] api_key_env)"
    if status == 404:
        return f"check [orchestrator] model ('{config.model}') and base_url"
    return "see the daemon log for the request that failed"


class BaseClient:
    provider = "?"

    def __init__(self, config: OrchestratorConfig):
        self.config = config
        self.model = config.model
        self.sleep: Callable[[float], Any] = asyncio.sleep  # tests may replace it

    def api_key(self) -> str:
        env = self.config.api_key_env or DEFAULT_KEY_ENV[self.provider]
        key = os.environ.get(env)
        if key:
            return key
        if self.config.base_url:  # a local or proxy endpoint may not need a key
            return "unused"
        raise LLMError(f"no API key for the {self.provider} orchestrator model: ${env} is not set",
                       hint=f"export {env}=…, or name another variable with "
                            "[orchestrator] api_key_env in .zwarm/config.toml")

    async def complete(self, system: str, items: list[Item], tools: list[ToolSchema],
                       on_text: TextSink | None = None) -> Completion:
        attempts = self.config.max_retries + 1
        for attempt in range(1, attempts + 1):
            try:
                completion = await self._once(system, items, tools, on_text)
                completion.attempts = attempt
                return completion
            except Exception as exc:
                if not is_retryable(exc):
                    if isinstance(exc, _api_error_types()):
                        raise LLMError(describe(self.provider, exc),
                                       hint=hint_for(exc, self.config)) from exc
                    raise
                if attempt == attempts:
                    raise LLMError(describe(self.provider, exc) + f" ({attempts} attempts)",
                                   hint="the provider may be overloaded; try again later, or "
                                        "raise [orchestrator] max_retries") from exc
                delay = self._backoff(attempt, exc)
                log.warning("%s; retry %d/%d in %.2fs", describe(self.provider, exc),
                            attempt, attempts - 1, delay)
                await self.sleep(delay)
        raise AssertionError("unreachable")

    def _backoff(self, attempt: int, exc: Exception) -> float:
        hinted = _retry_after(exc)
        base = self.config.retry_backoff_s * (2 ** (attempt - 1))
        delay = hinted if hinted is not None else base * (1 + random.random() / 4)
        return min(max(delay, 0.0), MAX_BACKOFF_S)

    async def _once(self, system: str, items: list[Item], tools: list[ToolSchema],
                    on_text: TextSink | None) -> Completion:
        raise NotImplementedError
