"""Keeping the history under the character budget (`[orchestrator] max_context_chars`).

What is kept: the system prompt (sent separately, always), the first user item (the task
or the first waypoint), and as many of the most recent *rounds* as fit. A round starts at
a user or assistant item and includes the tool outputs that answer it, so a tool call is
never separated from its output, whatever the provider's wire shape (Responses
`function_call`/`function_call_output`, Anthropic `tool_use`/`tool_result`). A marker
tells the model that earlier rounds were left out.

Sizes count everything that is sent, tool-call arguments and outputs included (zwarm's
estimate ignored them, though they are most of an orchestrator's context).
"""

from __future__ import annotations

from .history import Item, user

MARKER = ("[context trimmed: {n} earlier items were left out to stay within the context "
          "budget; use list_sessions and check_session to re-read what you need]")


def rounds(items: list[Item]) -> list[list[Item]]:
    """Split into rounds: each tool item stays with the assistant item it answers."""
    groups: list[list[Item]] = []
    for item in items:
        if item.role == "tool" and groups:
            groups[-1].append(item)
        else:
            groups.append([item])
    return groups


def _size(group: list[Item]) -> int:
    return sum(i.chars() for i in group)


def trim(items: list[Item], max_chars: int, system_chars: int = 0) -> list[Item]:
    """The items to send: head + newest rounds within `max_chars` (system prompt included).

    The newest round is always kept, even alone over budget: dropping it would leave the
    model without the results it has to react to.
    """
    total = system_chars + sum(i.chars() for i in items)
    if total <= max_chars or len(items) <= 2:
        return items
    groups = rounds(items)
    head, body = groups[0], groups[1:]
    budget = max_chars - system_chars - _size(head) - len(MARKER) - 20
    kept: list[list[Item]] = []
    for group in reversed(body):
        if kept and _size(group) > budget:
            break
        kept.append(group)
        budget -= _size(group)
    kept.reverse()
    dropped = sum(len(g) for g in body) - sum(len(g) for g in kept)
    if dropped == 0:
        return items
    marker = user(MARKER.format(n=dropped), tag="trimmed")
    return [*head, marker, *(i for g in kept for i in g)]
