// Identifiers shared by the manifest (package.json) and the code. The extension's own
// command ids use the `zwarm-ls.` prefix because vscode-languageclient registers every
// server-side `zwarm.<name>` executeCommand as a VS Code command of that exact id.

export const CLIENT_ID = "zwarm"; // also the settings section: `zwarm.trace.server` is read by id
export const CLIENT_NAME = "zwarm-ls";
export const SETTINGS_SECTION = "zwarm";
export const OUTPUT_CHANNEL = "zwarm";

export const VIEW_CONTAINER = "zwarm";
export const SESSIONS_VIEW = "zwarm-ls.sessions";
export const TRAJECTORY_SCHEME = "zwarm";

export const Commands = {
  delegateTask: "zwarm-ls.delegateTask",
  delegateSelection: "zwarm-ls.delegateSelection",
  showSessions: "zwarm-ls.showSessions",
  refreshSessions: "zwarm-ls.refreshSessions",
  peek: "zwarm-ls.peek",
  check: "zwarm-ls.check",
  showTrajectory: "zwarm-ls.showTrajectory",
  converse: "zwarm-ls.converse",
  endSession: "zwarm-ls.endSession",
  orchestrate: "zwarm-ls.orchestrate",
  pilot: "zwarm-ls.pilot",
  runs: "zwarm-ls.runs",
  restartServer: "zwarm-ls.restartServer",
  showLog: "zwarm-ls.showLog",
  openFileDiff: "zwarm-ls.openFileDiff",
  acceptHunk: "zwarm-ls.acceptHunk",
  rejectHunk: "zwarm-ls.rejectHunk",
  acceptAll: "zwarm-ls.acceptAll",
  rejectAll: "zwarm-ls.rejectAll",
  // Named by the daemon's code lenses; they are not server commands, so the client owns them.
  openTrajectory: "zwarm.openTrajectory",
  openChanges: "zwarm.openChanges",
} as const;

/** Server commands of the daemon's per-hunk lenses (run through the review's checks). */
export const ServerCommands = {
  applyChanges: "zwarm.applyChanges",
  discardChanges: "zwarm.discardChanges",
} as const;

/** Context keys used in `when` clauses of the manifest. */
export const ContextKeys = {
  serverRunning: "zwarm-ls.serverRunning",
  hasSessions: "zwarm-ls.hasSessions",
} as const;
