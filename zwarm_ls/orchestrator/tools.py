"""The tools the orchestrator and pilot LLMs call, over the same session service as the
editor. Parameter schemas are generated from the protocol's pydantic models, so the LLM,
the editor and the CLI share one definition of every verb.

Every call returns a JSON object to the model: `{"ok": true, ...result}` or
`{"ok": false, "error": ..., "hint": ...}`. Nothing a tool does is raised out of the
loop: bad arguments, unknown sessions, timeouts and crashes all become such results.
Calls made in one model turn run concurrently, each under its own time limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel, Field, ValidationError

from ..config import OrchestratorConfig
from ..errors import InvalidParams, ZwarmError
from ..protocol import (
    ApplyChangesParams,
    BashParams,
    BashResult,
    ChatParams,
    ChatResult,
    ConverseParams,
    DelegateParams,
    EndParams,
    ExitParams,
    ExitResult,
    ListParams,
    SessionChangesParams,
    SessionRef,
    SleepParams,
    SleepResult,
    TrajectoryParams,
    WaitParams,
)
from ..service import SessionService
from .history import ToolCall, ToolOutput
from .llm import ToolSchema

log = logging.getLogger(__name__)

LONG_STRING = 4000  # strings longer than this are shortened first when a result is too big
TIMEOUT_MARGIN_S = 30.0


class UserChannel(Protocol):
    """How `chat` reaches the person: the editor (LSP) or a terminal."""

    async def ask(self, message: str, options: list[str] | None) -> str | None: ...

    async def tell(self, message: str) -> None: ...


class NoUser:
    """For runs nobody watches: questions get no answer, and the model is told so."""

    async def ask(self, message: str, options: list[str] | None) -> str | None:
        return None

    async def tell(self, message: str) -> None:
        log.info("orchestrator says: %s", message)


@dataclass
class ToolContext:
    service: SessionService
    config: OrchestratorConfig
    source: str
    user: UserChannel = field(default_factory=NoUser)
    # Sessions this run started or talked to: what sleep/wait watch by default.
    sessions: list[str] = field(default_factory=list)
    exited: bool = False
    exit_message: str | None = None
    # Set by the orchestrator when a quality watcher guards exit: None when the check
    # passes, else why not (the exit is refused with it).
    exit_gate: Callable[[], Awaitable[str | None]] | None = None
    exit_gate_timeout_s: float = 0.0
    # pause_watcher(name, steps) → what happened; raises ValueError for a refusal.
    pause_watcher: Callable[[str, int], str] | None = None

    def remember(self, session_id: str) -> None:
        if session_id not in self.sessions:
            self.sessions.append(session_id)

    def watched(self, requested: list[str] | None) -> list[str] | None:
        if requested:
            return requested
        running = {s.id for s in self.service.index.summaries() if s.status.is_active}
        mine = [s for s in self.sessions if s in running]
        return mine or None  # None: the service watches every running session


Runner = Callable[[ToolContext, Any], Awaitable[BaseModel]]


@dataclass
class Tool:
    name: str
    description: str
    params: type[BaseModel]
    run: Runner
    # Request fields the LLM does not set (editor anchors, the session source).
    exclude: tuple[str, ...] = ()
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    timeout: Callable[[ToolContext, Any], float] | None = None
    # Fields the LLM must give although the request model lets editors leave them out.
    require: tuple[str, ...] = ()

    def schema(self) -> ToolSchema:
        parameters = parameters_schema(self.params, self.exclude, self.overrides)
        parameters["required"] += [r for r in self.require if r not in parameters["required"]]
        return ToolSchema(name=self.name, description=self.description, parameters=parameters)

    def time_limit(self, ctx: ToolContext, args: Any) -> float:
        return self.timeout(ctx, args) if self.timeout else ctx.config.tool_timeout_s


# ----- schemas ------------------------------------------------------------------------------


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    """Replace `$ref`s by their definitions and drop titles: simpler for every provider."""
    if isinstance(node, dict):
        if "$ref" in node:
            target = defs[node["$ref"].rsplit("/", 1)[-1]]
            return _inline({**target, **{k: v for k, v in node.items() if k != "$ref"}}, defs)
        return {k: _inline(v, defs) for k, v in node.items() if k not in ("title", "$defs")}
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


def parameters_schema(model: type[BaseModel], exclude: tuple[str, ...] = (),
                      overrides: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """The JSON schema of `model`'s fields (snake_case names), minus `exclude`."""
    raw = model.model_json_schema(by_alias=False)
    full = _inline(raw, raw.get("$defs", {}))
    props = {k: v for k, v in full.get("properties", {}).items() if k not in exclude}
    for name, extra in (overrides or {}).items():
        props[name] = {**props.get(name, {}), **extra}
    required = [r for r in full.get("required", []) if r not in exclude]
    return {"type": "object", "properties": props, "required": required,
            "additionalProperties": False}


# ----- results ------------------------------------------------------------------------------


def _shorten_strings(value: Any, limit: int) -> Any:
    if isinstance(value, str) and len(value) > limit:
        keep = limit // 2
        return f"{value[:keep]}\n… [{len(value) - 2 * keep} chars cut] …\n{value[-keep:]}"
    if isinstance(value, dict):
        return {k: _shorten_strings(v, limit) for k, v in value.items()}
    if isinstance(value, list):
        return [_shorten_strings(v, limit) for v in value]
    return value


def encode(payload: dict[str, Any], cap: int) -> str:
    """JSON for the model, within `cap` characters (long strings are cut in the middle)."""
    text = json.dumps(payload, ensure_ascii=False)
    if len(text) <= cap:
        return text
    text = json.dumps(_shorten_strings(payload, min(LONG_STRING, cap // 4)), ensure_ascii=False)
    if len(text) <= cap:
        return text
    return text[:cap] + f"… [result cut: {len(text) - cap} more chars]"


def error_payload(message: str, hint: str | None = None, code: int | None = None) -> dict:
    out: dict[str, Any] = {"ok": False, "error": message}
    if hint:
        out["hint"] = hint
    if code is not None:
        out["code"] = code
    return out


def _invalid(exc: ValidationError) -> dict:
    problems = [f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}"
                for e in exc.errors()[:3]]
    return error_payload("invalid arguments: " + "; ".join(problems),
                         hint="call the tool again with arguments that match its schema")


# ----- the tools ----------------------------------------------------------------------------


async def _delegate(ctx: ToolContext, p: DelegateParams) -> BaseModel:
    result = await ctx.service.delegate(p.model_copy(update={"source": ctx.source}))
    ctx.remember(result.session_id)
    return result


async def _converse(ctx: ToolContext, p: ConverseParams) -> BaseModel:
    result = await ctx.service.converse(p)
    ctx.remember(result.session_id)
    return result


async def _sleep(ctx: ToolContext, p: SleepParams) -> BaseModel:
    started = time.monotonic()
    watched = ctx.watched(p.session_ids)
    if watched is None and not any(s.status.is_active for s in ctx.service.index.summaries()):
        return SleepResult(slept_s=0.0, woke_early=True, finished=[], still_running=[])
    waited = await ctx.service.wait(WaitParams(session_ids=watched, timeout_s=p.seconds))
    return SleepResult(slept_s=round(time.monotonic() - started, 2),
                       woke_early=not waited.timed_out, finished=waited.finished,
                       still_running=waited.still_running)


async def _wait(ctx: ToolContext, p: WaitParams) -> BaseModel:
    return await ctx.service.wait(p.model_copy(update={"session_ids": ctx.watched(p.session_ids)}))


async def _read_capped(stream: asyncio.StreamReader, cap: int) -> tuple[bytes, bool]:
    data = bytearray()
    cut = False
    while chunk := await stream.read(65536):
        room = cap - len(data)
        if room > 0:
            data += chunk[:room]
        cut = cut or len(chunk) > room
    return bytes(data), cut


async def _bash(ctx: ToolContext, p: BashParams) -> BaseModel:
    cwd = str(ctx.service.config.root)
    limit = p.timeout_s or ctx.config.bash_timeout_s
    cap = ctx.config.bash_output_cap
    # The command is the model's own text; it is given to bash as one argv element, and no
    # task text or other data is ever spliced into it.
    proc = await asyncio.create_subprocess_exec(
        "bash", "-c", p.command, cwd=cwd, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, start_new_session=True)
    assert proc.stdout is not None and proc.stderr is not None
    readers = asyncio.gather(_read_capped(proc.stdout, cap), _read_capped(proc.stderr, cap))
    timed_out = False
    try:
        async with asyncio.timeout(limit):
            await proc.wait()
    except TimeoutError:
        timed_out = True
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # the whole group: no stray children
        await proc.wait()
    try:
        async with asyncio.timeout(5):
            (out, out_cut), (err, err_cut) = await asyncio.shield(readers)
    except TimeoutError:
        # Something the command started in the background still holds the pipes.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        (out, out_cut), (err, err_cut) = await readers
    return BashResult(exit_code=None if timed_out else proc.returncode,
                      stdout=out.decode(errors="replace"), stderr=err.decode(errors="replace"),
                      timed_out=timed_out, truncated=out_cut or err_cut, cwd=cwd)


async def _chat(ctx: ToolContext, p: ChatParams) -> BaseModel:
    if not p.wait_for_user_input:
        await ctx.user.tell(p.message)
        return ChatResult(delivered=True)
    try:
        async with asyncio.timeout(ctx.config.chat_timeout_s):
            answer = await ctx.user.ask(p.message, p.options)
    except TimeoutError:
        return ChatResult(delivered=True, note="the user did not answer in time; carry on with "
                                               "a sensible default")
    if answer is None:
        return ChatResult(delivered=True, note="no answer from the user; carry on with a "
                                               "sensible default")
    return ChatResult(delivered=True, answer=answer)


class PauseWatcherParams(BaseModel):
    name: str = Field(min_length=1, max_length=100, description="the watcher, as it signs "
                      "its messages ([watcher: name])")
    steps: int = Field(default=10, ge=0, le=50, description="how many steps it stays "
                       "silent; 0 resumes it now")
    reason: str = Field(min_length=1, max_length=2000, description="why its nudges do not "
                        "apply now (shown to the user)")


class PauseWatcherResult(BaseModel):
    note: str


async def _pause_watcher(ctx: ToolContext, p: PauseWatcherParams) -> BaseModel:
    if ctx.pause_watcher is None:
        raise InvalidParams("this run has no watchers to pause")
    try:
        return PauseWatcherResult(note=ctx.pause_watcher(p.name, p.steps))
    except ValueError as exc:
        raise InvalidParams(str(exc)) from exc


async def _exit(ctx: ToolContext, p: ExitParams) -> BaseModel:
    if ctx.exit_gate is not None:
        failure = await ctx.exit_gate()
        if failure is not None:
            raise InvalidParams(f"exit refused: the quality check failed. {failure}",
                                hint="have a session fix it, verify, then call exit again")
    ctx.exited = True
    ctx.exit_message = p.message
    return ExitResult()


def _svc(method: str) -> Runner:
    async def run(ctx: ToolContext, p: Any) -> BaseModel:
        return await getattr(ctx.service, method)(p)
    return run


def _review(method: str) -> Runner:
    async def run(ctx: ToolContext, p: Any) -> BaseModel:
        return await getattr(ctx.service.review, method)(p)
    return run


def build_tools(default_adapter: str, with_exit: bool) -> list[Tool]:
    """The orchestrator's tools (the pilot's: the same without `exit`)."""
    tools = [
        Tool("delegate", "Start an executor session on a task. Returns at once with the "
             "session id; the agent works in the background.", DelegateParams, _delegate,
             exclude=("anchor", "source", "selection", "executor"), require=("task",),
             overrides={
                 "adapter": {"enum": ["codex", "claude"], "default": default_adapter,
                             "description": "codex: fast, the default; claude: heavier "
                                            "reasoning"},
                 "model": {"description": "default: gpt-5.1-codex-mini (codex), sonnet "
                                          "(claude)"},
                 "working_dir": {"description": "directory inside the project (default: "
                                                "the project root)"}}),
        Tool("converse", "Send a finished session a follow-up message. Returns at once; "
             "the agent answers in the background.", ConverseParams, _converse),
        Tool("peek_session", "Quick status of a session: status, is_running, latest message.",
             SessionRef, _svc("peek")),
        Tool("check_session", "The session's full last response, usage, cost and runtime.",
             SessionRef, _svc("check")),
        Tool("get_trajectory", "The steps the agent took (reasoning, commands, file "
             "changes). full=true for untruncated details.", TrajectoryParams, _svc("trajectory")),
        Tool("list_sessions", "All sessions with needs_attention flags and counts.",
             ListParams, _svc("list")),
        Tool("end_session", "Stop a running session (or clean up a finished one with "
             "delete=true).", EndParams, _svc("end")),
        Tool("session_changes", "Exactly what a session changed: files and hunks, each with "
             "its turn and state (pending: in its own worktree, not yet in the project; "
             "applied: in the project). Review it before verifying.", SessionChangesParams,
             _review("session_changes")),
        Tool("apply_changes", "Bring a worktree session's hunks into the project (all "
             "pending ones, or hunk_ids). All or nothing: a conflict applies nothing and "
             "names the hunk.", ApplyChangesParams, _review("apply_changes"),
             exclude=("dry_run",)),
        Tool("sleep", "Wait up to `seconds` (max 300) for your sessions; returns as soon as "
             "one of them stops running.", SleepParams, _sleep,
             timeout=lambda ctx, p: p.seconds + TIMEOUT_MARGIN_S),
        Tool("wait_for_sessions", "Wait until one of the given sessions (default: yours that "
             "are running) stops running, or timeout_s passes (max 300).", WaitParams, _wait,
             timeout=lambda ctx, p: p.timeout_s + TIMEOUT_MARGIN_S),
        Tool("bash", "Run a shell command in the project directory to VERIFY work (tests, "
             "linters, type checks, git diff). Never to write code.", BashParams, _bash,
             timeout=lambda ctx, p: (p.timeout_s or ctx.config.bash_timeout_s) + TIMEOUT_MARGIN_S),
        Tool("chat", "Talk to the user in the editor. With wait_for_user_input=true, returns "
             "their answer. Use sparingly.", ChatParams, _chat,
             timeout=lambda ctx, p: ctx.config.chat_timeout_s + TIMEOUT_MARGIN_S),
    ]
    if with_exit:
        tools.append(Tool("exit", "Finish the run with a final report for the user. When "
                          "a quality check is configured it runs first, and a failure "
                          "refuses the exit with its output.", ExitParams, _exit,
                          timeout=lambda ctx, p: ctx.exit_gate_timeout_s or
                          ctx.config.tool_timeout_s))
        tools.append(Tool("pause_watcher", "Silence a watcher's nudges for some steps when "
                          "they do not apply (say why); budget and quality cannot be paused.",
                          PauseWatcherParams, _pause_watcher))
    return tools


class Toolbox:
    def __init__(self, ctx: ToolContext, tools: list[Tool]):
        self.ctx = ctx
        self.tools = {t.name: t for t in tools}

    def schemas(self) -> list[ToolSchema]:
        return [t.schema() for t in self.tools.values()]

    async def run_all(self, calls: list[ToolCall]) -> list[ToolOutput]:
        """Run one turn's calls concurrently; outputs come back in the calls' order."""
        return list(await asyncio.gather(*(self.run_one(c) for c in calls)))

    async def run_one(self, call: ToolCall) -> ToolOutput:
        payload = await self._payload(call)
        return ToolOutput(call_id=call.call_id, name=call.name, is_error=not payload.get("ok"),
                          output=encode(payload, self.ctx.config.max_tool_output_chars))

    async def _payload(self, call: ToolCall) -> dict[str, Any]:
        tool = self.tools.get(call.name)
        if tool is None:
            return error_payload(f"unknown tool '{call.name}'",
                                 hint="available: " + ", ".join(self.tools))
        try:
            raw = json.loads(call.arguments or "{}")
        except ValueError as exc:
            return error_payload(f"arguments are not valid JSON: {exc}")
        if not isinstance(raw, dict):
            return error_payload("arguments must be a JSON object")
        try:
            args = tool.params.model_validate({k: v for k, v in raw.items()
                                               if k not in tool.exclude})
        except ValidationError as exc:
            return _invalid(exc)
        limit = tool.time_limit(self.ctx, args)
        try:
            # asyncio.timeout, not wait_for: on 3.11 a run cancelled just as its tool
            # finished would lose the cancel and go on to the next step.
            async with asyncio.timeout(limit):
                result = await tool.run(self.ctx, args)
        except ZwarmError as exc:
            return error_payload(exc.message, exc.hint, exc.code)
        except TimeoutError:
            return error_payload(f"{call.name} did not finish within {limit:.0f}s",
                                 hint="try again, or check the session's status")
        except Exception as exc:  # a tool's own bug must not end the run
            log.exception("tool %s failed", call.name)
            return error_payload(f"{call.name} failed: {type(exc).__name__}: {exc}")
        return {"ok": True, **result.model_dump(mode="json", exclude_none=True)}
