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


# How a watcher's nudge can reach the model ([watchers] message_role). OpenAI takes
# system and developer messages anywhere in the input; Anthropic has no such turn, so
# there they go as user text inside <system-reminder> tags.
NudgeRole = Literal["user", "system", "developer"]
NUDGE_ROLES: tuple[str, ...] = ("user", "system", "developer")


class Item(BaseModel):
    role: Literal["user", "assistant", "tool", "system", "developer"]
    text: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    results: list[ToolOutput] = Field(default_factory=list)
    # Anthropic extended thinking: the thinking blocks of an assistant turn, as the API
    # sent them (with their signatures), sent back unchanged while its tools are answered.
    thinking: list[dict[str, Any]] = Field(default_factory=list)
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


class UnpairedToolCall(ValueError):
    """A history that a provider would reject: a tool call and its result out of pair."""
