// The zwarm/* wire shapes, mirrored from zwarm_ls/protocol.py (camelCase JSON, nulls
// omitted). Only what this client reads is spelled out; the daemon is the authority.

export type Status = "pending" | "running" | "completed" | "failed" | "killed";
export type AdapterName = "codex" | "claude";

export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

export interface Anchor {
  uri: string;
  range: Range;
}

export interface FileTouch {
  path: string;
  range?: Range;
  change?: "add" | "update" | "delete";
}

export interface Step {
  index: number;
  turn: number;
  kind: string;
  ts: string;
  summary: string;
  detail?: string;
  files?: FileTouch[];
  exitCode?: number;
}

export interface TokenUsage {
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
  totalTokens?: number;
}

/** A session as lists render it; listSessions sends these. */
export interface SessionRow {
  id: string;
  shortId: string;
  task: string;
  adapter: string;
  model: string;
  status: Status;
  turn: number;
  updatedAt: string;
  stepCount: number;
  latestStep?: string;
  activity?: string;
  needsAttention: boolean;
  costUsd?: number;
  error?: string;
  anchor?: Anchor;
  isolation?: Isolation;
  executor?: string;
  location?: string;
  changes?: ChangeCounts;
  overlaps: Overlap[];
}

/** A row with the session's details (sessionUpdated, waitSessions). */
export interface SessionSummary extends SessionRow {
  latestMessage?: string;
  workingDir: string;
  createdAt: string;
  usage?: TokenUsage;
  source?: string;
  exitCode?: number;
}

export interface SessionCounts {
  total: number;
  running: number;
  completed: number;
  failed: number;
  killed: number;
  pending: number;
  needsAttention: number;
}

export interface DelegateParams {
  /** Optional with `selection`: the daemon then writes the task text for the code. */
  task?: string;
  adapter?: string;
  model?: string;
  workingDir?: string;
  anchor?: Anchor;
  selection?: Anchor;
  isolation?: Isolation;
  executor?: "local" | "ray";
}

export interface DelegateResult {
  sessionId: string;
  shortId: string;
  status: Status;
  adapter: string;
  model: string;
  workingDir: string;
  isolation: Isolation;
  executor: string;
  agentDir?: string;
  overlaps: Overlap[];
}

export interface ConverseResult {
  sessionId: string;
  turn: number;
  status: Status;
  resumedNatively: boolean;
}

export interface PeekResult {
  sessionId: string;
  shortId: string;
  status: Status;
  isRunning: boolean;
  latestMessage?: string;
  activity?: string;
}

export interface CheckResult {
  sessionId: string;
  shortId: string;
  status: Status;
  isRunning: boolean;
  task: string;
  adapter: string;
  model: string;
  response?: string | null;
  turn: number;
  messageCount: number;
  costUsd?: number | null;
  runtimeS: number;
  exitCode?: number;
  error?: string;
}

export interface ListResult {
  sessions: SessionRow[];
  counts: SessionCounts;
  nextCursor?: string;
}

export interface EndResult {
  sessionId: string;
  status: Status | "deleted";
  wasRunning: boolean;
  reason?: string;
}

export interface RenderResult {
  sessionId: string;
  markdown: string;
}

export interface Decoration {
  range: Range;
  sessionId: string;
  shortId: string;
  status: Status;
  turn?: number;
  stepIndex?: number;
  hunkId?: string;
  state?: HunkState;
  mixed?: boolean;
  label: string;
  hover: string;
}

export interface DecorationsResult {
  uri: string;
  decorations: Decoration[];
}

export interface SessionUpdated {
  session: SessionSummary;
  newSteps: Step[];
  removed: boolean;
  overlaps: Overlap[];
}

export type RunStatus = "running" | "exited" | "budget_exhausted" | "stopped" | "failed";

export interface OrchestrateResult {
  runId: string;
  status: RunStatus;
  stepCount: number;
  message?: string;
  stoppedBy?: string;
  sessions: string[];
}

export interface PilotResult {
  pilotId: string;
  checkpoint: string;
  reply: string;
  steps: Step[];
  stoppedBy?: string;
}

/** One orchestrator run of `zwarm/listRuns`; `interrupted`: its process died mid-run. */
export interface RunSummary {
  runId: string;
  kind: "orchestrator";
  status: RunStatus | "interrupted";
  task: string;
  stepCount: number;
  maxSteps: number;
  sessions: string[];
  createdAt: string;
  updatedAt: string;
  resumed: number;
  resumable: boolean;
  message?: string;
  stoppedBy?: string;
}

export interface ListRunsResult {
  runs: RunSummary[];
}

/** `zwarm/orchestratorTrajectory`: a run's steps. */
export interface RunTrajectoryResult {
  runId: string;
  kind: "orchestrator" | "pilot";
  status: RunStatus;
  task: string;
  steps: Step[];
  nextIndex: number;
}

/** `zwarm/orchestratorUpdated`: new steps of an orchestrator run or a pilot. */
export interface OrchestratorUpdated {
  runId: string;
  kind: "orchestrator" | "pilot";
  status: RunStatus;
  newSteps: Step[];
}

/** `zwarm/chat` (server → client, when the client declares `experimental.zwarm.chat`). */
export interface ChatQuestion {
  message: string;
  options?: string[] | null;
}

export interface ChatAnswer {
  answer?: string | null;
}

/** Argument of the client-side `zwarm.openTrajectory` command the daemon's code lenses use. */
export interface OpenTrajectoryArgs {
  sessionId: string;
}

export const Methods = {
  delegate: "zwarm/delegate",
  converse: "zwarm/converse",
  peek: "zwarm/peekSession",
  check: "zwarm/checkSession",
  trajectory: "zwarm/getTrajectory",
  list: "zwarm/listSessions",
  end: "zwarm/endSession",
  render: "zwarm/renderTrajectory",
  decorations: "zwarm/decorations",
  orchestrate: "zwarm/orchestrate",
  pilot: "zwarm/pilot",
  listRuns: "zwarm/listRuns",
  runTrajectory: "zwarm/orchestratorTrajectory",
  resumeRun: "zwarm/resumeRun",
  sessionUpdated: "zwarm/sessionUpdated",
  orchestratorUpdated: "zwarm/orchestratorUpdated",
  sessionChanges: "zwarm/sessionChanges",
  applyChanges: "zwarm/applyChanges",
  discardChanges: "zwarm/discardChanges",
  fileContent: "zwarm/fileContent",
  blame: "zwarm/blame",
  changesUpdated: "zwarm/changesUpdated",
  chat: "zwarm/chat",
} as const;

// ----- change sets (zwarm_ls/protocol.py, "change sets") -------------------------------------

export type Isolation = "worktree" | "inplace";
export type HunkState = "pending" | "applied" | "discarded" | "conflict";
export type FileStatus = "added" | "modified" | "deleted" | "renamed";

export interface ChangeCounts {
  files: number;
  pending: number;
  applied: number;
  discarded: number;
  conflict: number;
  known: boolean;
}

export interface Overlap {
  sessionId: string;
  shortId: string;
  path: string;
  range: Range;
}

export interface Hunk {
  id: string;
  turn: number;
  oldRange: Range;
  newRange: Range;
  state: HunkState;
  mixed?: boolean;
  added: number;
  removed: number;
  preview: string;
}

export interface FileChange {
  path: string;
  relPath: string;
  status: FileStatus;
  oldPath?: string;
  baseUri: string;
  resultUri: string;
  binary?: boolean;
  added: number;
  removed: number;
  hunks: Hunk[];
}

export interface SkippedPath {
  path: string;
  reason: string;
}

export interface SessionChangesParams {
  sessionId: string;
  turn?: number;
}

export interface SessionChangesResult {
  sessionId: string;
  shortId: string;
  isolation: Isolation;
  known: boolean;
  note?: string;
  baseRef?: string;
  resultRef?: string;
  stale: boolean;
  files: FileChange[];
  skipped: SkippedPath[];
  counts: ChangeCounts;
}

export interface ApplyChangesParams {
  sessionId: string;
  hunkIds?: string[];
  dryRun?: boolean;
}

export interface HunkConflict {
  hunkId: string;
  path: string;
  reason: "overlap" | "deleted" | "binary" | "fileChanged" | "clientRefused";
  detail?: string;
}

export interface SkippedHunk {
  hunkId: string;
  reason: string;
}

export interface ApplyChangesResult {
  sessionId: string;
  applied: string[];
  skipped: SkippedHunk[];
  conflicts: HunkConflict[];
  edit?: unknown;
  writtenBy: "editor" | "daemon" | "none";
}

export interface DiscardChangesParams {
  sessionId: string;
  hunkIds?: string[];
}

export interface DiscardChangesResult {
  sessionId: string;
  discarded: string[];
  skipped: SkippedHunk[];
  conflicts: HunkConflict[];
  edit?: unknown;
  writtenBy: "editor" | "daemon" | "none";
}

export interface FileContentParams {
  uri: string;
}

export interface FileContentResult {
  uri: string;
  text: string;
  binary: boolean;
}

export interface BlameParams {
  uri: string;
  range?: Range;
}

export interface BlameLine {
  line: number;
  author: "agent" | "user";
  sessionId?: string;
  shortId?: string;
  turn?: number;
  adapter?: string;
  unsaved?: boolean;
}

export interface BlameResult {
  uri: string;
  known: boolean;
  lines: BlameLine[];
}

export interface ChangesUpdated {
  sessionId: string;
  counts: ChangeCounts;
}
