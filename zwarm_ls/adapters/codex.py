"""OpenAI Codex CLI: `codex exec --json` command lines and its JSONL events.

Events (one JSON object per line): thread.started, turn.started, turn.completed,
turn.failed, error, and item.started / item.updated / item.completed whose item.type is
agent_message, reasoning, command_execution, file_change, mcp_tool_call, web_search,
todo_list or error.
"""

from __future__ import annotations

import functools
import json
import re
import shlex
from typing import Any

from ..config import AdapterConfig, CodexConfig
from ..protocol import FileTouch, TokenUsage
from ..text import clip
from .base import Adapter, Outcome, StepDraft, TurnState, UsageCounts, raw_step, read_usage

_BASH_WRAPPER = re.compile(r"^/bin/(?:ba|z)?sh -l?c '(.*)'$", re.S)
# The common case, a script with no single quote in it: no shell parsing needed.
_SIMPLE_WRAPPER = re.compile(r"^/(?:usr/)?bin/(?:ba|z)?sh -l?c '([^']*)'$", re.S)
_SHELL_PREFIX = re.compile(r"^/(?:usr/)?bin/(?:ba|z)?sh -l?c ")


def shell_command(command: Any) -> str:
    """The command as the user would type it, without Codex's `bash -lc …` wrapper."""
    text = " ".join(command) if isinstance(command, list) else str(command or "")
    return _unwrap(text)


@functools.lru_cache(maxsize=512)
def _unwrap(text: str) -> str:
    """Codex quotes the script shell-style: `'…'` when it can, else `"…"` and mixed
    segments (`"echo \\"it's\\" "'$HOME'`), so the general case is a POSIX split. The same
    command arrives in item.started and item.completed, hence the cache."""
    simple = _SIMPLE_WRAPPER.match(text)
    if simple:
        return simple.group(1)
    if _SHELL_PREFIX.match(text):
        try:
            parts = shlex.split(text)
        except ValueError:
            parts = []
        if len(parts) == 3:
            return parts[2]
    match = _BASH_WRAPPER.match(text)
    return match.group(1).replace("'\\''", "'") if match else text


def toml_value(value: Any) -> str:
    """A value as TOML text, for `codex -c key=value`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(str(value))  # a TOML basic string


def flatten_overrides(table: dict[str, Any], prefix: str = "") -> list[str]:
    """Nested tables become dotted keys: {"a": {"b": 1}} -> ["a.b=1"]."""
    out: list[str] = []
    for key, value in table.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            out.extend(flatten_overrides(value, dotted + "."))
        else:
            out.append(f"{dotted}={toml_value(value)}")
    return out


def _usage(raw: UsageCounts) -> TokenUsage:
    return TokenUsage(input_tokens=raw.input_tokens, cached_input_tokens=raw.cached_input_tokens,
                      output_tokens=raw.output_tokens, reasoning_tokens=raw.reasoning_output_tokens)


def _error_message(error: Any) -> str:
    """turn.failed carries {"message": …}; some builds send the message as a bare string."""
    if isinstance(error, dict):
        error = error.get("message")
    return str(error) if error else "turn failed"


class CodexAdapter(Adapter):
    name = "codex"
    default_model = "gpt-5.1-codex-mini"
    binary = "codex"
    # `codex exec resume` reports turn.completed.usage as the thread's running total.
    cumulative_usage = True

    def command(self, cfg: AdapterConfig, *, model: str, working_dir: str,
                resume_id: str | None) -> list[str]:
        assert isinstance(cfg, CodexConfig)
        argv = [cfg.binary or self.binary, "exec", "--json", "--skip-git-repo-check",
                "--model", model, "--cd", working_dir]
        if cfg.full_danger:
            argv.append("--dangerously-bypass-approvals-and-sandbox")
        else:
            argv += ["--sandbox", cfg.sandbox]
        for override in flatten_overrides(cfg.overrides):
            argv += ["-c", override]
        argv += cfg.extra_args
        if resume_id:
            argv += ["resume", resume_id]
        argv.append("-")  # read the prompt from stdin
        return argv

    def parse_event(self, event: dict[str, Any], state: TurnState) -> list[StepDraft]:
        kind = event.get("type")
        if kind == "thread.started":
            state.resume_id = event.get("thread_id") or state.resume_id
            return []
        if kind == "turn.started":
            state.activity = "thinking"
            return []
        if kind == "turn.completed":
            state.outcome = "completed"  # even when its usage turns out unreadable
            state.activity = None
            counts, problem = read_usage(event.get("usage"), event)
            if counts is None:
                return [problem] if problem else []
            state.usage = u = _usage(counts)
            return [StepDraft("usage", f"tokens: {u.input_tokens} in ({u.cached_input_tokens} "
                              f"cached), {u.output_tokens} out")]
        if kind == "turn.failed":
            message = _error_message(event.get("error"))
            state.outcome = "failed"
            state.fatal_error = message
            state.activity = None
            return [StepDraft("error", clip(message), detail=message)]
        if kind == "error":
            message = str(event.get("message") or "error")
            state.last_error = message
            return [StepDraft("error", clip(message), detail=message)]
        if kind in ("item.started", "item.updated"):
            state.activity = self._activity(event.get("item") or {})
            return []
        if kind == "item.completed":
            return self._item(event.get("item") or {}, state)
        return [raw_step(event)]

    @staticmethod
    def _activity(item: dict[str, Any]) -> str:
        if item.get("type") == "command_execution":
            return clip(f"running $ {shell_command(item.get('command'))}", 120)
        return str(item.get("type") or "working").replace("_", " ")

    def _item(self, item: dict[str, Any], state: TurnState) -> list[StepDraft]:
        state.activity = "thinking"
        kind = item.get("type")
        if kind == "agent_message":
            text = str(item.get("text") or "")
            state.messages.append(text)
            return [StepDraft("message", clip(text), detail=text)]
        if kind == "reasoning":
            text = str(item.get("text") or "")
            return [StepDraft("reasoning", clip(text), detail=text)]
        if kind == "command_execution":
            command = shell_command(item.get("command"))
            code = item.get("exit_code")
            return [StepDraft("command", clip(f"$ {command}"),
                              detail=f"$ {command}\n{item.get('aggregated_output') or ''}",
                              exit_code=code if isinstance(code, int) else None)]
        if kind == "file_change":
            return [self._file_change(item)]
        if kind == "mcp_tool_call":
            name = f"{item.get('server', '?')}.{item.get('tool', '?')}"
            result = item.get("error") or item.get("result")
            return [StepDraft("tool_call", clip(f"{name}({json.dumps(item.get('arguments'))})"),
                              detail=json.dumps({"arguments": item.get("arguments"),
                                                 "result": result}, indent=2))]
        if kind == "web_search":
            return [StepDraft("tool_call", clip(f"web search: {item.get('query', '')}"))]
        if kind == "todo_list":
            items = item.get("items") or []
            done = sum(1 for i in items if i.get("completed"))
            lines = "\n".join(f"[{'x' if i.get('completed') else ' '}] {i.get('text', '')}"
                              for i in items)
            return [StepDraft("tool_call", f"todo list: {done}/{len(items)} done", detail=lines)]
        if kind == "error":
            message = str(item.get("message") or "error")
            return [StepDraft("error", clip(message), detail=message)]
        return [raw_step({"type": f"item.{kind}", "item": item})]

    @staticmethod
    def _file_change(item: dict[str, Any]) -> StepDraft:
        changes = item.get("changes") or []
        files = [FileTouch(path=str(c.get("path")), change=_change_kind(c.get("kind")))
                 for c in changes if c.get("path")]
        names = ", ".join(f.path.rsplit("/", 1)[-1] for f in files) or "files"
        failed = item.get("status") == "failed"
        return StepDraft("file_change", clip(f"{'failed to edit' if failed else 'edited'} {names}"),
                         detail="\n".join(f"{f.change or 'update'} {f.path}" for f in files),
                         files=files)

    def outcome(self, state: TurnState, exit_code: int | None) -> Outcome:
        if state.outcome == "failed":
            return Outcome("failed", state.fatal_error)
        if exit_code not in (0, None):
            return Outcome("failed", state.last_error or f"codex exited with code {exit_code}")
        if state.outcome != "completed":
            return Outcome("failed", state.last_error or "codex ended without completing the turn")
        return Outcome("completed")


def _change_kind(kind: Any) -> str | None:
    if isinstance(kind, dict):  # older CLIs: {"type": "add"}
        kind = kind.get("type")
    return kind if kind in ("add", "update", "delete") else None
