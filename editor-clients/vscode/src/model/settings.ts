// The extension's settings as one typed value, and what the daemon gets from them.
// Pure: `vscode` is not imported here so the unit tests can run in plain Node.

export type AdapterChoice = "" | "codex" | "claude";
export type IsolationChoice = "" | "worktree" | "inplace";

export interface ZwarmSettings {
  serverPath: string;
  pythonPath: string;
  defaultAdapter: AdapterChoice;
  codexModel: string;
  claudeModel: string;
  isolation: IsolationChoice;
  /** VS Code's workspace trust: only a trusted folder's .zwarm/ config may widen. */
  trusted: boolean;
}

function text(value: unknown): string {
  return typeof value === "string" ? value.trim() : "";
}

function adapter(value: unknown): AdapterChoice {
  return value === "codex" || value === "claude" ? value : "";
}

function isolation(value: unknown): IsolationChoice {
  return value === "worktree" || value === "inplace" ? value : "";
}

/**
 * Read the settings through `get` (a `WorkspaceConfiguration.get` in the extension);
 * `trusted` is `vscode.workspace.isTrusted`.
 */
export function parseSettings(get: (key: string) => unknown, trusted = false): ZwarmSettings {
  return {
    serverPath: text(get("serverPath")),
    pythonPath: text(get("pythonPath")),
    defaultAdapter: adapter(get("defaultAdapter")),
    codexModel: text(get("codexModel")),
    claudeModel: text(get("claudeModel")),
    isolation: isolation(get("isolation")),
    trusted,
  };
}

export type DaemonOptions = Record<string, Record<string, string> | boolean>;

/**
 * The sections the daemon understands (`daemon`, `codex`, `claude`, `sessions`, as in
 * .zwarm/*.toml, snake_case keys), and whether VS Code trusts the folder. Empty settings
 * are left out so the project's own files decide.
 */
export function daemonOptions(s: ZwarmSettings): DaemonOptions {
  const options: DaemonOptions = { trustedFolder: s.trusted };
  if (s.defaultAdapter) {
    options.daemon = { default_adapter: s.defaultAdapter };
  }
  if (s.codexModel) {
    options.codex = { model: s.codexModel };
  }
  if (s.claudeModel) {
    options.claude = { model: s.claudeModel };
  }
  if (s.isolation) {
    options.sessions = { isolation: s.isolation };
  }
  return options;
}

/** A different way to start the daemon needs a restart; other settings are pushed live. */
export function needsRestart(before: ZwarmSettings, after: ZwarmSettings): boolean {
  return before.serverPath !== after.serverPath || before.pythonPath !== after.pythonPath;
}
