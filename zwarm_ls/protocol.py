"""Every shape that crosses a boundary: the zwarm/* protocol, the trajectory step model,
and the results the CLI and the orchestrator tools return.

One definition each. The server validates params with these, the CLI prints them, the
orchestrator derives its tool schemas from them, and the tests import them. JSON on the
wire is camelCase; Python attributes are snake_case.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cached_property
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator
from pydantic.alias_generators import to_camel


class Model(BaseModel):
    """Base for protocol shapes: camelCase on the wire, snake_case in Python."""

    # Infinity and NaN are never valid input: every number the protocol takes is bounded.
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True,
                              allow_inf_nan=False)

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
Isolation = Literal["worktree", "inplace"]
ExecutorKind = Literal["local", "ray"]
HunkState = Literal["pending", "applied", "discarded", "conflict"]
FileStatus = Literal["added", "modified", "deleted", "renamed"]
ConflictReason = Literal["overlap", "deleted", "binary", "fileChanged", "clientRefused"]
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


UINTEGER_MAX = 2**31 - 1  # LSP's uinteger


class Position(Model):
    line: int = Field(ge=0, le=UINTEGER_MAX)
    character: int = Field(ge=0, le=UINTEGER_MAX)


class Range(Model):
    start: Position
    end: Position


class Anchor(Model):
    """Where in the editor a session was started from (a selection or a diagnostic)."""

    uri: str = Field(min_length=1, max_length=8192, pattern=r"^[^\x00]*$")
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


class ChangeCounts(Model):
    """How many hunks of a session's change set are in each state (for lenses, views)."""

    files: int = 0
    pending: int = 0
    applied: int = 0
    discarded: int = 0
    conflict: int = 0
    # False for sessions with no snapshots (made by zwarm, or before zwarm-ls had them).
    known: bool = True


class Overlap(Model):
    """Another live session changed (or is about to change) the same lines."""

    session_id: str
    short_id: str
    path: str  # file URI
    range: Range


class SessionRow(Model):
    """A session as lists show it (tree, quick pick, status bar, `:Zwarm list`): what a
    row renders, nothing more. listSessions sends these: with 1,000 sessions the reply's
    size is what the client waits for (parsing it), so the details below stay out."""

    id: str
    short_id: str
    task: str  # a preview (TASK_PREVIEW_CHARS); the whole task is in checkSession
    adapter: str
    model: str
    status: Status
    turn: int
    updated_at: str
    step_count: int = 0
    latest_step: str | None = None  # what the session did last (a preview)
    activity: str | None = None
    needs_attention: bool = False
    cost_usd: float | None = None
    error: str | None = None
    anchor: Anchor | None = None
    isolation: Isolation | None = None
    executor: str | None = None
    # Where a remote turn runs (Ray: node and job id); None for local sessions.
    location: str | None = None
    changes: ChangeCounts | None = None
    overlaps: list[Overlap] = Field(default_factory=list)


class SessionSummary(SessionRow):
    """A row and the session's details: sessionUpdated, waitSessions, and every
    in-process reader (CLI, pilot, orchestrator)."""

    # The agent's last reply (a preview): often the latest step again, so rows leave it
    # to peekSession, which a client asks when it shows it (a tooltip).
    latest_message: str | None = None
    working_dir: str
    created_at: str
    usage: TokenUsage = Field(default_factory=TokenUsage)
    source: str | None = None
    exit_code: int | None = None


# ----- requests -----------------------------------------------------------------------


TEXT_LIMIT = 256 * 1024  # task and message text, in characters
NAME_LIMIT = 200  # adapter and model names
PATH_LIMIT = 4096
PATH_PATTERN = r"^[^\x00]*$"  # no NUL: it cannot be in a path
ID_LIMIT = 128  # session and hunk ids, alone and in lists
Id = Annotated[str, Field(min_length=1, max_length=ID_LIMIT)]


class SessionRef(Model):
    session_id: str = Field(min_length=1, max_length=ID_LIMIT)


class DelegateParams(Model):
    # With `selection`, `task` is optional: the daemon writes the task text for the
    # selected code (the same text for every editor), with `task` as the instruction.
    task: str | None = Field(default=None, min_length=1, max_length=TEXT_LIMIT)
    adapter: str | None = Field(default=None, max_length=NAME_LIMIT)
    model: str | None = Field(default=None, max_length=NAME_LIMIT)
    working_dir: str | None = Field(default=None, max_length=PATH_LIMIT, pattern=PATH_PATTERN)
    anchor: Anchor | None = None
    selection: Anchor | None = None
    source: str | None = Field(default=None, max_length=NAME_LIMIT)
    isolation: Isolation | None = None
    executor: ExecutorKind | None = None

    @model_validator(mode="after")
    def _task_or_selection(self) -> DelegateParams:
        if self.task is None and self.selection is None:
            raise ValueError("'task' is required when there is no 'selection'")
        return self


class DelegateResult(Model):
    session_id: str
    short_id: str
    status: Status
    adapter: str
    model: str
    working_dir: str
    isolation: Isolation = "inplace"
    executor: str = "local"
    # Where the agent works: the worktree for `worktree` sessions, else `working_dir`.
    agent_dir: str | None = None
    overlaps: list[Overlap] = Field(default_factory=list)


class ConverseParams(SessionRef):
    message: str = Field(min_length=1, max_length=TEXT_LIMIT)


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
    since_index: int = Field(default=0, ge=0, le=10**9)


class TrajectoryResult(Model):
    session_id: str
    status: Status
    steps: list[Step]
    next_index: int


LIST_PAGE_LIMIT = 10_000


class ListParams(Model):
    """All sessions as rows by default, newest first. A client that wants pages gives
    `limit` and then the `nextCursor` of the last page; `fields` keeps only those summary
    fields instead (wire names, details included; `id` is always kept)."""

    status: Status | None = None
    limit: int | None = Field(default=None, ge=1, le=LIST_PAGE_LIMIT)
    cursor: str | None = Field(default=None, max_length=2 * ID_LIMIT)
    fields: list[Annotated[str, Field(max_length=NAME_LIMIT)]] | None = Field(
        default=None, max_length=64)

    @model_validator(mode="after")
    def _known_fields(self) -> ListParams:
        known = {info.alias or name for name, info in SessionSummary.model_fields.items()}
        unknown = sorted(set(self.fields or ()) - known)
        if unknown:
            raise ValueError(f"unknown summary field(s): {', '.join(unknown[:5])}")
        return self


class SessionCounts(Model):
    total: int = 0
    running: int = 0
    completed: int = 0
    failed: int = 0
    killed: int = 0
    pending: int = 0
    needs_attention: int = 0


class ListResult(Model):
    # Rows (a summary given here is sent as its row), or the requested `fields` of each
    # summary (with `id`).
    sessions: list[SessionRow] | list[dict]
    counts: SessionCounts
    next_cursor: str | None = None  # set when `limit` cut the list short


class RawJson(str):
    """A protocol value already encoded as JSON (a list served from cached summaries): the
    server sends it as is instead of decoding and re-encoding it."""

    @cached_property
    def utf8(self) -> bytes:
        """Its bytes, encoded once: a cached list is sent many times, and encoding a few
        hundred KB of text with non-ASCII characters costs milliseconds each time."""
        return self.encode()


class EndParams(SessionRef):
    reason: str | None = Field(default=None, max_length=4096)
    delete: bool = False


class EndResult(Model):
    session_id: str
    status: Status | Literal["deleted"]
    was_running: bool
    reason: str | None = None


class WaitParams(Model):
    session_ids: list[Id] | None = Field(default=None, max_length=1000)
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
    keep_days: float = Field(default=7.0, ge=0, le=365_000)
    dry_run: bool = False
    # Also remove sessions whose change sets still hold unapplied hunks.
    force: bool = False


class CleanResult(Model):
    removed: list[str]
    # Old enough, but kept: they hold hunks nobody applied or discarded yet.
    kept: list[str] = Field(default_factory=list)


class SessionUpdated(Model):
    """Payload of the zwarm/sessionUpdated notification."""

    session: SessionSummary
    new_steps: list[Step] = Field(default_factory=list)
    # True when the session was deleted; `session` is its last known summary.
    removed: bool = False
    overlaps: list[Overlap] = Field(default_factory=list)


class DecorationsParams(Model):
    uri: str = Field(min_length=1, max_length=PATH_LIMIT * 3)


class Decoration(Model):
    """A range an agent changed, for a sign / highlight / hover in the editor."""

    range: Range
    session_id: str
    short_id: str
    status: Status
    turn: int | None = None
    step_index: int | None = None
    hunk_id: str | None = None
    state: HunkState | None = None
    mixed: bool | None = None
    label: str
    hover: str


class DecorationsResult(Model):
    uri: str
    decorations: list[Decoration]


class OpenTrajectoryArgs(Model):
    """Argument of the client-side `zwarm.openTrajectory` command used by code lenses."""

    session_id: str


# ----- change sets (DESIGN.md §7) ---------------------------------------------------------
# Ranges are LSP ranges (0-based lines, end exclusive) covering exactly the changed lines;
# an empty range (start == end) marks where lines were only removed or only added.
# Paths are file URIs; `relPath` is relative to the session's working dir, for display.


class Hunk(Model):
    id: str
    turn: int
    old_range: Range
    new_range: Range
    state: HunkState
    mixed: bool | None = None
    added: int = 0
    removed: int = 0
    # The first changed line, for lists (quickfix, tree views).
    preview: str = ""


class FileChange(Model):
    path: str
    rel_path: str
    status: FileStatus
    old_path: str | None = None
    base_uri: str
    result_uri: str
    binary: bool | None = None
    added: int = 0
    removed: int = 0
    hunks: list[Hunk] = Field(default_factory=list)


class SkippedPath(Model):
    path: str
    reason: str


class SessionChangesParams(SessionRef):
    turn: int | None = Field(default=None, ge=1, le=100_000)


class SessionChangesResult(Model):
    session_id: str
    short_id: str
    isolation: Isolation
    known: bool
    # Why `known` is false, or other facts the user should read with the change set.
    note: str | None = None
    base_ref: str | None = None
    result_ref: str | None = None
    # The session is running: the change set will grow.
    stale: bool = False
    files: list[FileChange] = Field(default_factory=list)
    skipped: list[SkippedPath] = Field(default_factory=list)
    counts: ChangeCounts = Field(default_factory=ChangeCounts)


class ApplyChangesParams(SessionRef):
    # All pending hunks when absent.
    hunk_ids: list[Id] | None = Field(default=None, max_length=10_000)
    dry_run: bool = False


class HunkConflict(Model):
    hunk_id: str
    path: str
    reason: ConflictReason
    detail: str | None = None


class SkippedHunk(Model):
    hunk_id: str
    reason: str


class HunkWriteResult(Model):
    """What an apply or a discard did besides the hunks it took."""

    session_id: str
    skipped: list[SkippedHunk] = Field(default_factory=list)
    conflicts: list[HunkConflict] = Field(default_factory=list)
    # The WorkspaceEdit that was (or, on dryRun, would be) sent, as LSP JSON.
    edit: dict | None = None
    # How the edit reached the files: the editor (`workspace/applyEdit`) or the daemon.
    written_by: Literal["editor", "daemon", "none"] = "none"


class ApplyChangesResult(HunkWriteResult):
    applied: list[str] = Field(default_factory=list)


class DiscardChangesParams(SessionRef):
    hunk_ids: list[Id] | None = Field(default=None, max_length=10_000)


class DiscardChangesResult(HunkWriteResult):
    discarded: list[str] = Field(default_factory=list)


class FileContentParams(Model):
    uri: str = Field(min_length=1, max_length=8192)


class FileContentResult(Model):
    uri: str
    text: str
    binary: bool = False


class BlameParams(Model):
    uri: str = Field(min_length=1, max_length=8192)
    range: Range | None = None


class BlameLine(Model):
    line: int
    author: Literal["agent", "user"]
    session_id: str | None = None
    short_id: str | None = None
    turn: int | None = None
    adapter: str | None = None
    # True for lines of an open buffer that are not saved yet.
    unsaved: bool | None = None


class BlameResult(Model):
    uri: str
    # False when no session ever snapshotted this file (nothing to attribute).
    known: bool
    lines: list[BlameLine] = Field(default_factory=list)


class ChangesUpdated(Model):
    """Payload of the zwarm/changesUpdated notification, pushed after every snapshot and
    every apply or discard."""

    session_id: str
    counts: ChangeCounts


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
    message: str = Field(min_length=1, max_length=TEXT_LIMIT)
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
    task: str = Field(min_length=1, max_length=TEXT_LIMIT)
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
    since_index: int = Field(default=0, ge=0, le=10**9)


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
    message: str = Field(min_length=1, max_length=TEXT_LIMIT)


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
    checkpoint: str = Field(min_length=1, max_length=NAME_LIMIT,
                            description="a label like T2, its number, or root")


class PilotGotoResult(Model):
    pilot_id: str
    current: str
    # Checkpoints after `current`; the next message discards them (a new branch).
    later: list[str]


# ----- orchestrator runs (zwarm/listRuns, `zwarm-ls runs --json`) ---------------------------


RUN_RESUMABLE = ("interrupted", "stopped", "failed", "budget_exhausted")


class RunSummary(Model):
    """One orchestrator run. `interrupted`: it was running when its process died."""

    run_id: str
    kind: Literal["orchestrator"] = "orchestrator"
    name: str | None = None  # the label given with `orchestrate --name`
    status: RunStatus | Literal["interrupted"]
    task: str
    step_count: int
    max_steps: int
    sessions: list[str] = Field(default_factory=list)
    usage: TokenUsage = Field(default_factory=TokenUsage)
    created_at: str
    updated_at: str
    resumed: int = 0  # how many times it was resumed
    resumable: bool = False  # `orchestrate --resume RUN` can carry it on
    message: str | None = None
    stopped_by: str | None = None


class ListRunsParams(Model):
    limit: int | None = Field(default=None, ge=1, le=10_000)


class ListRunsResult(Model):
    runs: list[RunSummary]  # newest first


class ResumeRunParams(Model):
    """`zwarm/resumeRun`: carry on a stopped, failed or interrupted run (like
    `orchestrate --resume RUN`); answered like `zwarm/orchestrate`."""

    run_id: str = Field(pattern=RUN_ID_PATTERN)
    max_steps: int | None = Field(default=None, ge=1, le=1000)
    wait: bool = False
