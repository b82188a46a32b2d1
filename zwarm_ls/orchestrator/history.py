"""The conversation an orchestrator or pilot has with its LLM, in a provider-neutral form.

One `Item` is a user message, an assistant turn (text plus the tool calls it made), or the
outputs of those tool calls. A tool call and its output are therefore structurally paired,
and each provider's request shape is derived from the items at send time:

- OpenAI Responses: `message` items, `function_call` and `function_call_output` items.
- Anthropic Messages: alternating user/assistant messages with `tool_use` / `tool_result`
  blocks (consecutive user-side items are merged, as the API requires).

The items are plain pydantic models, so a history round-trips through JSON on disk.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, Field


class ToolCall(BaseModel):
    call_id: str
    name: str
    arguments: str = "{}"  # the JSON text the model wrote; parsed when the tool runs

    def parsed_arguments(self) -> dict[str, Any]:
        """The arguments as a dict, or {} when the model wrote something that is not."""
        try:
            value = json.loads(self.arguments or "{}")
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}


class ToolOutput(BaseModel):
    call_id: str
    name: str
    output: str
    is_error: bool = False


class Item(BaseModel):
    role: Literal["user", "assistant", "tool"]
    text: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    results: list[ToolOutput] = Field(default_factory=list)
    # Why a user item exists: "task", "message", "nudge" (a watcher), "trimmed" (marker).
    tag: str | None = None

    def chars(self) -> int:
        """Size used by the context budget: everything that is sent, arguments included."""
        return (len(self.text) + sum(len(c.arguments) + len(c.name) for c in self.tool_calls)
                + sum(len(r.output) for r in self.results))


def user(text: str, tag: str = "message") -> Item:
    return Item(role="user", text=text, tag=tag)


def pending_calls(items: list[Item]) -> list[ToolCall]:
    """Tool calls of the last assistant item that have no output yet (an interrupted step)."""
    if not items or items[-1].role != "assistant":
        return []
    return list(items[-1].tool_calls)


def close_dangling(items: list[Item]) -> list[Item]:
    """Give every unanswered tool call an output, so the history is valid to send again.

    A run interrupted between the model's tool calls and their outputs (a crash, a
    restart) would otherwise leave a call without output, which both APIs reject.
    """
    dangling = pending_calls(items)
    if not dangling:
        return items
    outputs = [ToolOutput(call_id=c.call_id, name=c.name, is_error=True,
                          output='{"ok": false, "error": "interrupted before this tool ran"}')
               for c in dangling]
    return [*items, Item(role="tool", results=outputs)]


# ----- OpenAI Responses ---------------------------------------------------------------------


def to_openai_input(items: list[Item]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for item in items:
        if item.role == "user":
            out.append({"role": "user", "content": item.text})
        elif item.role == "assistant":
            if item.text:
                out.append({"role": "assistant", "content": item.text})
            out.extend({"type": "function_call", "call_id": c.call_id, "name": c.name,
                        "arguments": c.arguments} for c in item.tool_calls)
        else:
            out.extend({"type": "function_call_output", "call_id": r.call_id,
                        "output": r.output} for r in item.results)
    return out


# ----- Anthropic Messages -------------------------------------------------------------------


def _anthropic_blocks(item: Item) -> tuple[str, list[dict[str, Any]]]:
    if item.role == "assistant":
        blocks: list[dict[str, Any]] = [{"type": "text", "text": item.text}] if item.text else []
        blocks += [{"type": "tool_use", "id": c.call_id, "name": c.name,
                    "input": c.parsed_arguments()} for c in item.tool_calls]
        return "assistant", blocks
    if item.role == "tool":
        return "user", [{"type": "tool_result", "tool_use_id": r.call_id, "content": r.output,
                         "is_error": r.is_error} for r in item.results]
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


# ----- pairing checks (used before sending, and by the tests) -------------------------------


class UnpairedToolCall(ValueError):
    pass


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
