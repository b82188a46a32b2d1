// One output channel for everything: the daemon's stderr (vscode-languageclient writes
// it there), the JSON-RPC trace when `zwarm.trace.server` asks for it, and our own lines.

import * as vscode from "vscode";
import { OUTPUT_CHANNEL } from "./constants";

let channel: vscode.LogOutputChannel | undefined;

export function outputChannel(): vscode.LogOutputChannel {
  channel ??= vscode.window.createOutputChannel(OUTPUT_CHANNEL, { log: true });
  return channel;
}

export function logInfo(message: string): void {
  outputChannel().info(message);
}

export function logError(message: string, error?: unknown): void {
  const detail = error instanceof Error ? `: ${error.message}` : error !== undefined ? `: ${String(error)}` : "";
  outputChannel().error(`${message}${detail}`);
}
