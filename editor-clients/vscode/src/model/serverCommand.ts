// How to start the daemon, from the settings. Pure so it can be unit tested.

import type { ZwarmSettings } from "./settings";

export interface ServerCommand {
  command: string;
  args: string[];
  /** Which setting (or fallback) chose this command, for the log and error messages. */
  source: "zwarm.serverPath" | "zwarm.pythonPath" | "PATH";
}

/** `~` and `${userHome}` at the start of a path mean the home directory, as in VS Code. */
export function expandHome(path: string, home: string): string {
  if (path === "~" || path.startsWith("~/")) {
    return home + path.slice(1);
  }
  return path.replace(/^\$\{userHome\}/, home);
}

/**
 * serverPath wins; else the interpreter runs the CLI module; else `zwarm-ls` from PATH.
 * vscode-languageclient appends `--stdio` itself, which `serve` accepts.
 */
export function serverCommand(s: ZwarmSettings, home: string): ServerCommand {
  if (s.serverPath) {
    return { command: expandHome(s.serverPath, home), args: ["serve"], source: "zwarm.serverPath" };
  }
  if (s.pythonPath) {
    return {
      command: expandHome(s.pythonPath, home),
      args: ["-m", "zwarm_ls.cli", "serve"],
      source: "zwarm.pythonPath",
    };
  }
  return { command: "zwarm-ls", args: ["serve"], source: "PATH" };
}
