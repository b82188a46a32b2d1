// Finds the command that starts the daemon: `zwarm.serverPath`, or the interpreter in
// `zwarm.pythonPath` running the CLI module, or `zwarm-ls` on PATH. A configured path
// that does not exist is reported here, with the setting's name, rather than as a
// spawn error later.

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { serverCommand, type ServerCommand } from "../model/serverCommand";
import type { ZwarmSettings } from "../model/settings";

export class ServerNotFound extends Error {}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const candidate = path.join(dir, name);
    if (dir && fs.existsSync(candidate)) {
      return candidate;
    }
  }
  return undefined;
}

export function resolveServerCommand(settings: ZwarmSettings): ServerCommand {
  const cmd = serverCommand(settings, os.homedir());
  if (cmd.source === "PATH") {
    if (!onPath(cmd.command)) {
      throw new ServerNotFound(
        "zwarm-ls was not found on PATH. Install it (pip install zwarm-ls) or set zwarm.serverPath or zwarm.pythonPath.",
      );
    }
    return cmd;
  }
  if (path.isAbsolute(cmd.command) ? !fs.existsSync(cmd.command) : !onPath(cmd.command)) {
    throw new ServerNotFound(`${cmd.source} points at '${cmd.command}', which does not exist.`);
  }
  return cmd;
}
