"""The OpenAI Responses API: the client, the history as Responses input items, and the
rule that every function_call has its function_call_output."""

from __future__ import annotations

from typing import Any

from ...config import OrchestratorConfig
from ...protocol import TokenUsage
from ..history import Item, ToolCall, UnpairedToolCall
from ..llm import BaseClient, Completion, IncompleteStream, TextSink, ToolSchema, sdk


def to_openai_input(items: list[Item]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for item in items:
        if item.role in ("user", "system", "developer"):
            out.append({"role": item.role, "content": item.text})
        elif item.role == "assistant":
            if item.text:
                out.append({"role": "assistant", "content": item.text})
            out.extend({"type": "function_call", "call_id": c.call_id, "name": c.name,
                        "arguments": c.arguments} for c in item.tool_calls)
        else:
            out.extend({"type": "function_call_output", "call_id": r.call_id,
                        "output": r.output} for r in item.results)
    return out


def check_openai_pairs(input_items: list[dict[str, Any]]) -> None:
    """Every function_call has exactly one later function_call_output, and vice versa."""
    open_calls: set[str] = set()
    for entry in input_items:
        kind = entry.get("type")
        if kind == "function_call":
            open_calls.add(entry["call_id"])
        elif kind == "function_call_output":
            if entry["call_id"] not in open_calls:
                raise UnpairedToolCall(f"output for unknown call {entry['call_id']}")
            open_calls.discard(entry["call_id"])
    if open_calls:
        raise UnpairedToolCall(f"calls without output: {sorted(open_calls)}")


class OpenAIClient(BaseClient):
    provider = "openai"

    def __init__(self, config: OrchestratorConfig, reasoning_effort: str | None = None):
        super().__init__(config)
        self.reasoning_effort = reasoning_effort
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
        if self.reasoning_effort:
            kwargs["reasoning"] = {"effort": self.reasoning_effort}
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
