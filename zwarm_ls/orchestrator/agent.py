"""One model step, shared by the orchestrator and the pilot: trim the context, call the
LLM, record its reply, run the tool calls it made (concurrently), record their outputs,
and report everything as protocol `Step`s.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable

from ..protocol import Step, TokenUsage
from ..store import now_iso
from ..text import clip
from .context import trim
from .history import Item, NudgeRole, ToolCall, close_dangling
from .llm import Completion, LLMClient, TextSink
from .tools import Toolbox

StepSink = Callable[[list[Step]], Awaitable[None] | None]


class StepLog:
    """The run's steps, numbered from `start`, handed to `sink` as they are made."""

    def __init__(self, start: int = 0, sink: StepSink | None = None):
        self.next_index = start
        self.steps: list[Step] = []
        self.sink = sink
        self._unsent: list[Step] = []

    def add(self, turn: int, kind: str, summary: str, detail: str | None = None) -> Step:
        step = Step(index=self.next_index, turn=turn, kind=kind, ts=now_iso(),  # type: ignore[arg-type]
                    summary=clip(summary, 200), detail=detail)
        self.next_index += 1
        self.steps.append(step)
        self._unsent.append(step)
        return step

    async def flush(self) -> None:
        if not self._unsent or self.sink is None:
            self._unsent.clear()
            return
        batch, self._unsent = self._unsent, []
        result = self.sink(batch)
        if inspect.isawaitable(result):
            await result


def call_summary(call: ToolCall) -> str:
    args = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}"
                     for k, v in call.parsed_arguments().items())
    return f"{call.name}({args})"


def result_summary(name: str, output: str) -> str:
    try:
        data = json.loads(output)
    except ValueError:
        return f"{name} → {output}"
    if not isinstance(data, dict):
        return f"{name} → {output}"
    if not data.get("ok"):
        return f"{name} failed: {data.get('error')}"
    keys = ("session_id", "status", "exit_code", "answer", "timed_out", "latest_message")
    shown = ", ".join(f"{k}={data[k]}" for k in keys if data.get(k) is not None)
    return f"{name} → {shown or 'ok'}"


class Agent:
    def __init__(self, client: LLMClient, toolbox: Toolbox, system: str, items: list[Item],
                 log: StepLog, max_context_chars: int, on_text: TextSink | None = None):
        self.client = client
        self.toolbox = toolbox
        self.system = system
        self.items = close_dangling(items)
        self.log = log
        self.max_context_chars = max_context_chars
        self.on_text = on_text
        self.usage = TokenUsage()

    def add_user(self, text: str, tag: str, turn: int, role: NudgeRole = "user") -> None:
        """A message from the user's side: the user's own, or a watcher's nudge (which
        may go as a system or developer message instead, [watchers] message_role)."""
        self.items.append(Item(role=role, text=text, tag=tag))
        self.log.add(turn, "message", text, detail=text)

    async def step(self, turn: int) -> Completion:
        """One LLM call and the tools it asked for; `turn` labels the recorded steps."""
        sent = trim(self.items, self.max_context_chars, len(self.system))
        completion = await self.client.complete(self.system, sent, self.toolbox.schemas(),
                                                self.on_text)
        self.usage = self.usage.plus(completion.usage)
        self.items.append(Item(role="assistant", text=completion.text,
                               tool_calls=completion.tool_calls, thinking=completion.thinking))
        if completion.text:
            self.log.add(turn, "message", completion.text, detail=completion.text)
        for call in completion.tool_calls:
            self.log.add(turn, "tool_call", call_summary(call), detail=call.arguments)
        u = completion.usage
        self.log.add(turn, "usage", f"{u.input_tokens} in / {u.output_tokens} out tokens"
                     + (f" after {completion.attempts} attempts" if completion.attempts > 1
                        else ""))
        await self.log.flush()
        if completion.tool_calls:
            outputs = await self.toolbox.run_all(completion.tool_calls)
            self.items.append(Item(role="tool", results=outputs))
            for out in outputs:
                self.log.add(turn, "tool_result", result_summary(out.name, out.output),
                             detail=out.output)
            await self.log.flush()
        return completion
