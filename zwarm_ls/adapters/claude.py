"""Claude Code CLI: `claude -p --output-format stream-json --verbose` and its events.

Events: system (subtype init carries session_id), assistant (content blocks text,
thinking, tool_use), user (tool_result blocks), result (subtype success or error_*,
with usage and total_cost_usd). An API error arrives as an assistant message plus
`result.is_error: true` and exit code 1: that turn failed, whatever the text says.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..config import AdapterConfig, ClaudeConfig
from ..protocol import FileTouch, Range, TokenUsage
from ..text import clip
from .base import (
    Adapter,
    Outcome,
    StepDraft,
    TurnState,
    UsageCounts,
    raw_step,
    read_usage,
    whole_file_range,
)

_FILE_TOOLS = {"Write", "Edit", "MultiEdit", "NotebookEdit"}
_EXIT_CODE = re.compile(r"^Exit code (\d+)")
_KNOWN_QUIET = {"stream_event", "rate_limit_event"}


def _text_of(content: Any) -> str:
    """Tool results come as a string or as a list of text blocks."""
    if isinstance(content, list):
        return "\n".join(str(b.get("text", "")) for b in content if isinstance(b, dict))
    return "" if content is None else str(content)


def _usage(raw: UsageCounts) -> TokenUsage:
    return TokenUsage(input_tokens=raw.input_tokens,
                      cached_input_tokens=raw.cache_read_input_tokens,
                      cache_creation_input_tokens=raw.cache_creation_input_tokens,
                      output_tokens=raw.output_tokens)


class ClaudeAdapter(Adapter):
    name = "claude"
    default_model = "sonnet"
    binary = "claude"
    cumulative_usage = False

    def command(self, cfg: AdapterConfig, *, model: str, working_dir: str,
                resume_id: str | None) -> list[str]:
        assert isinstance(cfg, ClaudeConfig)
        argv = [cfg.binary or self.binary, "-p", "--output-format", "stream-json", "--verbose",
                "--model", model]
        if cfg.full_danger:
            argv.append("--dangerously-skip-permissions")
        else:
            argv += ["--permission-mode", cfg.permission_mode]
        if resume_id:
            argv += ["--resume", resume_id]
        argv += cfg.extra_args
        if cfg.allowed_tools:
            # variadic flag: keep it last so it cannot swallow anything after it
            argv += ["--allowedTools", ",".join(cfg.allowed_tools)]
        return argv

    def parse_event(self, event: dict[str, Any], state: TurnState) -> list[StepDraft]:
        kind = event.get("type")
        if kind == "system":
            if event.get("subtype") == "init":
                state.resume_id = event.get("session_id") or state.resume_id
                state.activity = "thinking"
            return []
        if kind == "assistant":
            message = event.get("message") or {}
            blocks = message.get("content") or []
            if isinstance(blocks, str):  # a bare string is one text block
                blocks = [{"type": "text", "text": blocks}]
            steps = [s for b in blocks if isinstance(b, dict) for s in self._block(b, state)]
            return steps + self._call_usage(message, event, state)
        if kind == "user":
            content = (event.get("message") or {}).get("content")
            if not isinstance(content, list):
                return []
            return [self._tool_result(b, state) for b in content
                    if isinstance(b, dict) and b.get("type") == "tool_result"]
        if kind == "result":
            return self._result(event, state)
        if kind in _KNOWN_QUIET:
            return []
        return [raw_step(event)]

    @staticmethod
    def _call_usage(message: dict[str, Any], event: dict[str, Any],
                    state: TurnState) -> list[StepDraft]:
        """Add one model call's usage, once per call id, so a run that never reaches its
        result (killed, crashed) still shows what it used; the result's total replaces it."""
        call_id, raw = message.get("id"), message.get("usage")
        if state.outcome is not None or not isinstance(call_id, str) or raw is None or \
                call_id in state.counted_calls:
            return []
        state.counted_calls.add(call_id)
        counts, problem = read_usage(raw, event)
        if counts is not None:
            state.usage = state.usage.plus(_usage(counts))
        return [problem] if problem else []

    def _block(self, block: dict[str, Any], state: TurnState) -> list[StepDraft]:
        btype = block.get("type")
        if btype == "text":
            text = str(block.get("text") or "")
            state.messages.append(text)
            return [StepDraft("message", clip(text), detail=text)]
        if btype in ("thinking", "redacted_thinking"):
            text = str(block.get("thinking") or "(redacted)")
            return [StepDraft("reasoning", clip(text), detail=text)]
        if btype == "tool_use":
            return [self._tool_use(block, state)]
        return [raw_step({"type": f"assistant.{btype}", "block": block})]

    def _tool_use(self, block: dict[str, Any], state: TurnState) -> StepDraft:
        name = str(block.get("name") or "tool")
        args = block.get("input") if isinstance(block.get("input"), dict) else {}
        state.tool_names[str(block.get("id"))] = name
        if name == "Bash":
            command = str(args.get("command", ""))
            state.activity = clip(f"running $ {command}", 120)
            return StepDraft("command", clip(f"$ {command}"), detail=f"$ {command}")
        state.activity = f"using {name}"
        if name in _FILE_TOOLS and args.get("file_path"):
            path = str(args["file_path"])
            rng = Range.model_validate(whole_file_range(args["content"])) \
                if name == "Write" and isinstance(args.get("content"), str) else None
            change = "add" if name == "Write" else "update"
            return StepDraft("file_change", clip(f"{name} {path}"),
                             detail=json.dumps(args, indent=2),
                             files=[FileTouch(path=path, range=rng, change=change)])
        return StepDraft("tool_call", clip(f"{name}({json.dumps(args)})"),
                         detail=json.dumps(args, indent=2))

    @staticmethod
    def _tool_result(block: dict[str, Any], state: TurnState) -> StepDraft:
        text = _text_of(block.get("content"))
        tool = state.tool_names.get(str(block.get("tool_use_id")), "tool")
        state.activity = "thinking"
        first = text.strip().split("\n", 1)[0] if text.strip() else "(no output)"
        if block.get("is_error"):
            match = _EXIT_CODE.match(text.strip())
            return StepDraft("error", clip(f"{tool} failed: {first}"), detail=text,
                             exit_code=int(match.group(1)) if match else None)
        return StepDraft("tool_result", clip(f"{tool}: {first}"), detail=text,
                         exit_code=0 if tool == "Bash" else None)

    @staticmethod
    def _result(event: dict[str, Any], state: TurnState) -> list[StepDraft]:
        resume_id = event.get("session_id")
        state.resume_id = resume_id if isinstance(resume_id, str) and resume_id \
            else state.resume_id
        cost = event.get("total_cost_usd")
        state.reported_cost = float(cost) if isinstance(cost, int | float) and \
            not isinstance(cost, bool) and cost >= 0 else None
        state.activity = None
        # How the turn ended is decided before its usage is read: unreadable counts must
        # not turn a finished turn into one that "ended without a result".
        failed = bool(event.get("is_error")) or event.get("subtype") not in (None, "success")
        text = event.get("result")
        counts, problem = read_usage(event.get("usage"), event)
        if counts is not None:
            state.usage = _usage(counts)
        steps = [problem] if problem else []
        if failed:
            reason = str(text or event.get("subtype") or "claude reported an error")
            if event.get("api_error_status"):
                reason = f"{reason} (API status {event['api_error_status']})"
            state.outcome = "failed"
            state.fatal_error = reason
            return [*steps, StepDraft("error", clip(reason), detail=reason)]
        state.outcome = "completed"
        if isinstance(text, str) and text and (not state.messages or state.messages[-1] != text):
            state.messages.append(text)
        if counts is None:
            return steps
        u = state.usage
        return [StepDraft("usage", f"tokens: {u.input_tokens} in ({u.cached_input_tokens} cached),"
                          f" {u.output_tokens} out")]

    def outcome(self, state: TurnState, exit_code: int | None) -> Outcome:
        if state.outcome == "failed":
            return Outcome("failed", state.fatal_error)
        if exit_code not in (0, None):
            return Outcome("failed", state.last_error or f"claude exited with code {exit_code}")
        if state.outcome != "completed":
            return Outcome("failed", "claude ended without a result")
        return Outcome("completed")
