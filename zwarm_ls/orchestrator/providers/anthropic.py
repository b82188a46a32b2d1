"""The Anthropic Messages API: the client, the history as messages of content blocks,
and the rule that every tool_use is answered in the next message."""

from __future__ import annotations

import json
from typing import Any

from ...config import OrchestratorConfig
from ...protocol import TokenUsage
from ..history import Item, ToolCall, UnpairedToolCall
from ..llm import BaseClient, Completion, IncompleteStream, TextSink, ToolSchema, sdk


def _anthropic_blocks(item: Item) -> tuple[str, list[dict[str, Any]]]:
    if item.role == "assistant":
        blocks: list[dict[str, Any]] = [*item.thinking]
        blocks += [{"type": "text", "text": item.text}] if item.text else []
        blocks += [{"type": "tool_use", "id": c.call_id, "name": c.name,
                    "input": c.parsed_arguments()} for c in item.tool_calls]
        return "assistant", blocks
    if item.role == "tool":
        return "user", [{"type": "tool_result", "tool_use_id": r.call_id, "content": r.output,
                         "is_error": r.is_error} for r in item.results]
    if item.role in ("system", "developer"):
        return "user", [{"type": "text",
                         "text": f"<system-reminder>\n{item.text}\n</system-reminder>"}]
    return "user", [{"type": "text", "text": item.text}]


def to_anthropic_messages(items: list[Item]) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    for item in items:
        role, blocks = _anthropic_blocks(item)
        if not blocks:
            continue
        if messages and messages[-1]["role"] == role:
            # tool_result blocks must come first in a user message, which they do here
            # because a tool item always directly follows its assistant item.
            messages[-1]["content"].extend(blocks)
        else:
            messages.append({"role": role, "content": blocks})
    return messages


def check_anthropic_pairs(messages: list[dict[str, Any]]) -> None:
    """Every tool_use is answered by a tool_result in the very next (user) message."""
    for i, message in enumerate(messages):
        uses = {b["id"] for b in message["content"] if b.get("type") == "tool_use"}
        results = {b["tool_use_id"] for b in message["content"] if b.get("type") == "tool_result"}
        previous = messages[i - 1]["content"] if i else []
        asked = {b["id"] for b in previous if b.get("type") == "tool_use"}
        if results - asked:
            raise UnpairedToolCall(f"tool_result without tool_use: {sorted(results - asked)}")
        if uses:
            following = messages[i + 1]["content"] if i + 1 < len(messages) else []
            answered = {b["tool_use_id"] for b in following if b.get("type") == "tool_result"}
            if uses - answered:
                raise UnpairedToolCall(f"tool_use without tool_result: {sorted(uses - answered)}")


# Extended thinking (`thinking={"type": "enabled", "budget_tokens": n}`) for each
# reasoning effort: the API's minimum budget is 1024, and max_tokens must exceed it.
THINKING_BUDGET = {"minimal": 1024, "low": 4096, "medium": 10_000, "high": 24_000}


class AnthropicClient(BaseClient):
    provider = "anthropic"

    def __init__(self, config: OrchestratorConfig, reasoning_effort: str | None = None):
        super().__init__(config)
        self.thinking_budget = THINKING_BUDGET.get(reasoning_effort or "")
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
        if self.thinking_budget:
            # The answer keeps its own max_output_tokens on top of the thinking budget.
            kwargs["thinking"] = {"type": "enabled", "budget_tokens": self.thinking_budget}
            kwargs["max_tokens"] = self.config.max_output_tokens + self.thinking_budget
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
        thinking: list[dict[str, Any]] = []
        for block in message.content:
            if block.type == "text":
                text.append(block.text)
            elif block.type in ("thinking", "redacted_thinking"):
                thinking.append(block.model_dump(mode="json", exclude_none=True))
            elif block.type == "tool_use":
                calls.append(ToolCall(call_id=block.id, name=block.name,
                                      arguments=json.dumps(block.input or {})))
        u = message.usage
        usage = TokenUsage(input_tokens=u.input_tokens or 0, output_tokens=u.output_tokens or 0,
                           cached_input_tokens=getattr(u, "cache_read_input_tokens", 0) or 0,
                           cache_creation_input_tokens=getattr(
                               u, "cache_creation_input_tokens", 0) or 0)
        return Completion(text="".join(text), tool_calls=calls, usage=usage,
                          stop_reason=message.stop_reason, thinking=thinking)
