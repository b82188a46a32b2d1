"""Every shape that crosses a boundary: the zwarm/* protocol, the trajectory step model,
and the results the CLI and the orchestrator tools return.

One definition each. The server validates params with these, the CLI prints them, the
orchestrator derives its tool schemas from them, and the tests import them. JSON on the
wire is camelCase; Python attributes are snake_case.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field
from pydantic.alias_generators import to_camel


class Model(BaseModel):
    """Base for protocol shapes: camelCase on the wire, snake_case in Python."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    def wire(self) -> dict:
        """The JSON-ready dict sent to clients (camelCase, no nulls)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class Status(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    KILLED = "killed"

    @property
    def is_active(self) -> bool:
        return self in (Status.PENDING, Status.RUNNING)


AdapterName = Literal["codex", "claude"]
StepKind = Literal[
    "message",
    "reasoning",
    "command",
    "file_change",
    "tool_call",
    "tool_result",
    "error",
    "usage",
    # An event type the parser does not know; kept verbatim in `detail` so nothing is lost.
    "raw",
]


class Position(Model):
    line: int = Field(ge=0)
    character: int = Field(ge=0)


class Range(Model):
    start: Position
    end: Position


class Anchor(Model):
    """Where in the editor a session was started from (a selection or a diagnostic)."""

    uri: str
    range: Range


class FileTouch(Model):
    path: str
    range: Range | None = None
    change: Literal["add", "update", "delete"] | None = None


class Step(Model):
    """One normalized trajectory step; the same model for every adapter."""

    index: int
    turn: int
    kind: StepKind
    ts: str
    summary: str
    detail: str | None = None
    files: list[FileTouch] | None = None
    exit_code: int | None = None


class TokenUsage(Model):
    input_tokens: int = 0
    cached_input_tokens: int = 0
    cache_creation_input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.cache_creation_input_tokens + self.output_tokens

    def plus(self, other: TokenUsage) -> TokenUsage:
        fields = TokenUsage.model_fields
        return TokenUsage(**{k: getattr(self, k) + getattr(other, k) for k in fields})

    def minus(self, other: TokenUsage) -> TokenUsage:
        """Difference, floored at zero (for cumulative counters that restart)."""
        return TokenUsage(
            **{k: max(0, getattr(self, k) - getattr(other, k)) for k in TokenUsage.model_fields}
        )


class SessionSummary(Model):
    id: str
    short_id: str
    task: str
    adapter: str
    model: str
    status: Status
    turn: int
    working_dir: str
    created_at: str
    updated_at: str
    step_count: int = 0
    latest_step: str | None = None
    latest_message: str | None = None
    activity: str | None = None
    needs_attention: bool = False
    usage: TokenUsage = Field(default_factory=TokenUsage)
    cost_usd: float | None = None
    error: str | None = None
    anchor: Anchor | None = None
    source: str | None = None
    exit_code: int | None = None


# ----- requests -----------------------------------------------------------------------


class SessionRef(Model):
    session_id: str = Field(min_length=1, max_length=128)


class DelegateParams(Model):
    task: str = Field(min_length=1)
    adapter: str | None = None
    model: str | None = None
    working_dir: str | None = None
    anchor: Anchor | None = None
    source: str | None = None


class DelegateResult(Model):
    session_id: str
    short_id: str
    status: Status
    adapter: str
    model: str
    working_dir: str


class ConverseParams(SessionRef):
    message: str = Field(min_length=1)


class ConverseResult(Model):
    session_id: str
    turn: int
    status: Status
    resumed_natively: bool


class PeekResult(Model):
    session_id: str
    short_id: str
    status: Status
    is_running: bool
    latest_message: str | None = None
    activity: str | None = None


class CheckResult(Model):
    session_id: str
    short_id: str
    status: Status
    is_running: bool
    task: str
    adapter: str
    model: str
    response: str | None
    turn: int
    message_count: int
    usage: TokenUsage
    cost_usd: float | None
    runtime_s: float
    exit_code: int | None = None
    error: str | None = None


class TrajectoryParams(SessionRef):
    full: bool = False
    since_index: int = Field(default=0, ge=0)


class TrajectoryResult(Model):
    session_id: str
    status: Status
    steps: list[Step]
    next_index: int


class ListParams(Model):
    status: Status | None = None


class SessionCounts(Model):
    total: int = 0
    running: int = 0
    completed: int = 0
    failed: int = 0
    killed: int = 0
    pending: int = 0
    needs_attention: int = 0


class ListResult(Model):
    sessions: list[SessionSummary]
    counts: SessionCounts


class EndParams(SessionRef):
    reason: str | None = None
    delete: bool = False


class EndResult(Model):
    session_id: str
    status: Status | Literal["deleted"]
    was_running: bool
    reason: str | None = None


class WaitParams(Model):
    session_ids: list[str] | None = None
    timeout_s: float = Field(default=60.0, ge=0, le=300)


class WaitResult(Model):
    finished: list[SessionSummary]
    still_running: list[str]
    timed_out: bool


class RenderParams(SessionRef):
    full: bool = True


class RenderResult(Model):
    session_id: str
    markdown: str


class CleanParams(Model):
    keep_days: float = Field(default=7.0, ge=0)
    dry_run: bool = False


class CleanResult(Model):
    removed: list[str]


class SessionUpdated(Model):
    """Payload of the zwarm/sessionUpdated notification."""

    session: SessionSummary
    new_steps: list[Step] = Field(default_factory=list)
    # True when the session was deleted; `session` is its last known summary.
    removed: bool = False


class DecorationsParams(Model):
    uri: str = Field(min_length=1)


class Decoration(Model):
    """A range an agent changed, for a sign / highlight / hover in the editor."""

    range: Range
    session_id: str
    short_id: str
    status: Status
    step_index: int
    label: str
    hover: str


class DecorationsResult(Model):
    uri: str
    decorations: list[Decoration]


class OpenTrajectoryArgs(Model):
    """Argument of the client-side `zwarm.openTrajectory` command used by code lenses."""

    session_id: str


# ----- orchestrator and pilot ------------------------------------------------------------
# Params of the LLM-only tools (sleep, bash, chat, exit) and of the zwarm/orchestrate and
# zwarm/pilot* requests. The orchestrator's tool schemas are generated from these models
# and from the session requests above, so the LLM and the editor see the same shapes.

RUN_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
RunStatus = Literal["running", "exited", "budget_exhausted", "stopped", "failed"]


class SleepParams(Model):
    seconds: float = Field(gt=0, le=300, description="at most 300; wakes early when a "
                           "session it watches stops running")
    session_ids: list[str] | None = Field(default=None, description="sessions to watch "
                                          "(default: every running session)")


class SleepResult(Model):
    slept_s: float
    woke_early: bool
    finished: list[SessionSummary]
    still_running: list[str]


class BashParams(Model):
    command: str = Field(min_length=1, description="a shell command, run with `bash -c` "
                         "in the project directory")
    timeout_s: float | None = Field(default=None, gt=0, le=600,
                                    description="default and cap: [orchestrator] bash_timeout_s")


class BashResult(Model):
    exit_code: int | None
    stdout: str
    stderr: str
    timed_out: bool = False
    truncated: bool = False
    cwd: str


class ChatParams(Model):
    message: str = Field(min_length=1)
    wait_for_user_input: bool = True
    options: list[str] | None = Field(default=None, description="answers to offer as buttons")


class ChatResult(Model):
    delivered: bool
    answer: str | None = None
    note: str | None = None


class ChatQuestion(Model):
    """The daemon's `zwarm/chat` request to an editor that declares
    `experimental.zwarm.chat`: a question from the orchestrator or the pilot."""

    message: str
    options: list[str] | None = None


class ChatAnswer(Model):
    """The editor's reply to `zwarm/chat`; no answer when the user dismissed it."""

    answer: str | None = None


class ExitParams(Model):
    message: str = Field(default="", description="the final report for the user")


class ExitResult(Model):
    exited: bool = True


class OrchestrateParams(Model):
    task: str = Field(min_length=1)
    max_steps: int | None = Field(default=None, ge=1, le=1000)
    # False: answer at once with the run id and stream zwarm/orchestratorUpdated.
    wait: bool = False


class OrchestrateResult(Model):
    run_id: str
    status: RunStatus
    step_count: int = 0
    message: str | None = None
    stopped_by: str | None = None
    sessions: list[str] = Field(default_factory=list)
    usage: TokenUsage = Field(default_factory=TokenUsage)


class OrchestratorUpdated(Model):
    """Payload of the zwarm/orchestratorUpdated notification (orchestrator and pilot)."""

    run_id: str
    kind: Literal["orchestrator", "pilot"]
    status: RunStatus
    new_steps: list[Step] = Field(default_factory=list)


class RunTrajectoryParams(Model):
    run_id: str = Field(pattern=RUN_ID_PATTERN)
    since_index: int = Field(default=0, ge=0)


class RunTrajectoryResult(Model):
    run_id: str
    kind: Literal["orchestrator", "pilot"]
    status: RunStatus
    task: str
    steps: list[Step]
    next_index: int


class PilotRef(Model):
    pilot_id: str = Field(default="default", pattern=RUN_ID_PATTERN)


class PilotParams(PilotRef):
    message: str = Field(min_length=1)


class PilotResult(Model):
    pilot_id: str
    checkpoint: str
    reply: str
    steps: list[Step]
    stopped_by: str | None = None


class CheckpointInfo(Model):
    label: str
    instruction: str
    reply: str
    step_count: int
    created_at: str
    current: bool = False


class PilotHistoryResult(Model):
    pilot_id: str
    current: str
    checkpoints: list[CheckpointInfo]


class PilotGotoParams(PilotRef):
    checkpoint: str = Field(min_length=1, description="a label like T2, its number, or root")


class PilotGotoResult(Model):
    pilot_id: str
    current: str
    # Checkpoints after `current`; the next message discards them (a new branch).
    later: list[str]
