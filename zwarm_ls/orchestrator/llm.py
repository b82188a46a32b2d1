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
import json
import logging
import os
import random
from collections.abc import Callable
from typing import Any, Protocol

from pydantic import BaseModel, Field

from ..config import OrchestratorConfig
from ..errors import ZwarmError
from ..protocol import TokenUsage
from .history import (
    Item,
    ToolCall,
    check_anthropic_pairs,
    check_openai_pairs,
    to_anthropic_messages,
    to_openai_input,
)

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
                                       hint=_hint_for(exc, self.config)) from exc
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


def _hint_for(exc: Exception, config: OrchestratorConfig) -> str:
    status = getattr(exc, "status_code", None)
    if status in (401, 403):
        return "check the API key (and [orchestrator] api_key_env)"
    if status == 404:
        return f"check [orchestrator] model ('{config.model}') and base_url"
    return "see the daemon log for the request that failed"


class OpenAIClient(BaseClient):
    provider = "openai"

    def __init__(self, config: OrchestratorConfig):
        super().__init__(config)
        self.client = sdk("openai").AsyncOpenAI(
            api_key=self.api_key(), base_url=config.base_url, max_retries=0,
            timeout=config.request_timeout_s)

    async def _once(self, system: str, items: list[Item], tools: list[ToolSchema],
                    on_text: TextSink | None) -> Completion:
        input_items = to_openai_input(items)
        check_openai_pairs(input_items)
        kwargs: dict[str, Any] = {
            "model": self.model, "instructions": system, "input": input_items,
            "max_output_tokens": self.config.max_output_tokens, "store": False,
            "tools": [{"type": "function", "name": t.name, "description": t.description,
                       "parameters": t.parameters} for t in tools],
        }
        if tools:
            kwargs["parallel_tool_calls"] = True
        if not self.config.stream:
            return self._parse(await self.client.responses.create(**kwargs))
        final = None
        stream = await self.client.responses.create(**kwargs, stream=True)
        async for event in stream:
            if event.type == "response.output_text.delta" and on_text:
                on_text(event.delta)
            elif event.type in ("response.completed", "response.incomplete"):
                final = event.response
            elif event.type == "response.failed":
                error = getattr(event.response, "error", None)
                raise IncompleteStream(f"response failed: {error}")
        if final is None:
            raise IncompleteStream("no response.completed event")
        return self._parse(final)

    @staticmethod
    def _parse(response: Any) -> Completion:
        text: list[str] = []
        calls: list[ToolCall] = []
        for out in response.output or []:
            if out.type == "message":
                text += [c.text for c in out.content if getattr(c, "type", "") == "output_text"]
            elif out.type == "function_call":
                calls.append(ToolCall(call_id=out.call_id, name=out.name,
                                      arguments=out.arguments or "{}"))
        usage = TokenUsage()
        if response.usage is not None:
            u = response.usage
            cached = getattr(getattr(u, "input_tokens_details", None), "cached_tokens", 0)
            reasoning = getattr(getattr(u, "output_tokens_details", None), "reasoning_tokens", 0)
            usage = TokenUsage(input_tokens=u.input_tokens or 0, output_tokens=u.output_tokens or 0,
                               cached_input_tokens=cached or 0, reasoning_tokens=reasoning or 0)
        return Completion(text="".join(text), tool_calls=calls, usage=usage,
                          stop_reason=getattr(response, "status", None))


class AnthropicClient(BaseClient):
    provider = "anthropic"

    def __init__(self, config: OrchestratorConfig):
        super().__init__(config)
        self.client = sdk("anthropic").AsyncAnthropic(
            api_key=self.api_key(), base_url=config.base_url, max_retries=0,
            timeout=config.request_timeout_s)

    async def _once(self, system: str, items: list[Item], tools: list[ToolSchema],
                    on_text: TextSink | None) -> Completion:
        messages = to_anthropic_messages(items)
        check_anthropic_pairs(messages)
        kwargs: dict[str, Any] = {
            "model": self.model, "system": system, "messages": messages,
            "max_tokens": self.config.max_output_tokens,
            "tools": [{"name": t.name, "description": t.description,
                       "input_schema": t.parameters} for t in tools],
        }
        if not self.config.stream:
            return self._parse(await self.client.messages.create(**kwargs))
        stopped = False
        async with self.client.messages.stream(**kwargs) as stream:
            async for event in stream:
                if event.type == "text" and on_text:
                    on_text(event.text)
                elif event.type == "message_stop":
                    stopped = True
            if not stopped:
                raise IncompleteStream("no message_stop event")
            message = await stream.get_final_message()
        return self._parse(message)

    @staticmethod
    def _parse(message: Any) -> Completion:
        text: list[str] = []
        calls: list[ToolCall] = []
        for block in message.content:
            if block.type == "text":
                text.append(block.text)
            elif block.type == "tool_use":
                calls.append(ToolCall(call_id=block.id, name=block.name,
                                      arguments=json.dumps(block.input or {})))
        u = message.usage
        usage = TokenUsage(input_tokens=u.input_tokens or 0, output_tokens=u.output_tokens or 0,
                           cached_input_tokens=getattr(u, "cache_read_input_tokens", 0) or 0,
                           cache_creation_input_tokens=getattr(
                               u, "cache_creation_input_tokens", 0) or 0)
        return Completion(text="".join(text), tool_calls=calls, usage=usage,
                          stop_reason=message.stop_reason)


def make_client(config: OrchestratorConfig) -> LLMClient:
    """The client for `[orchestrator] provider`, configured from the config and env."""
    if config.provider == "anthropic":
        return AnthropicClient(config)
    return OpenAIClient(config)
