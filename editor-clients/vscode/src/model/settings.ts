// The extension's settings as one typed value, and what the daemon gets from them.
// Pure: `vscode` is not imported here so the unit tests can run in plain Node.

export type AdapterChoice = "" | "codex" | "claude";

export interface ZwarmSettings {
  serverPath: string;
  pythonPath: string;
  defaultAdapter: AdapterChoice;
  codexModel: string;
  claudeModel: string;
}

function text(value: unknown): string {
  return typeof value === "string" ? value.trim() : "";
}

function adapter(value: unknown): AdapterChoice {
  return value === "codex" || value === "claude" ? value : "";
}

/** Read the settings through `get` (a `WorkspaceConfiguration.get` in the extension). */
export function parseSettings(get: (key: string) => unknown): ZwarmSettings {
  return {
    serverPath: text(get("serverPath")),
    pythonPath: text(get("pythonPath")),
    defaultAdapter: adapter(get("defaultAdapter")),
    codexModel: text(get("codexModel")),
    claudeModel: text(get("claudeModel")),
  };
}

/**
 * The sections the daemon understands (`daemon`, `codex`, `claude`, as in .zwarm/*.toml,
 * snake_case keys). Empty settings are left out so the project's own files decide.
 */
export function daemonOptions(s: ZwarmSettings): Record<string, Record<string, string>> {
  const options: Record<string, Record<string, string>> = {};
  if (s.defaultAdapter) {
    options.daemon = { default_adapter: s.defaultAdapter };
  }
  if (s.codexModel) {
    options.codex = { model: s.codexModel };
  }
  if (s.claudeModel) {
    options.claude = { model: s.claudeModel };
  }
  return options;
}

/** A different way to start the daemon needs a restart; other settings are pushed live. */
export function needsRestart(before: ZwarmSettings, after: ZwarmSettings): boolean {
  return before.serverPath !== after.serverPath || before.pythonPath !== after.pythonPath;
}
