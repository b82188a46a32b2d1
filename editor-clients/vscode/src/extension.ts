// Activation only wires the parts together; each part lives in common/ or features/.

import * as vscode from "vscode";
import { SESSIONS_VIEW } from "./common/constants";
import { logInfo, outputChannel } from "./common/logging";
import { Daemon } from "./common/server";
import { onSettingsChanged, readSettings } from "./common/settings";
import { registerCommands } from "./features/commands";
import { ChangedLines } from "./features/decorations";
import { OrchestratorFeed } from "./features/orchestrator";
import { SessionStore } from "./features/sessionStore";
import { SessionsTree } from "./features/sessionsView";
import { createStatusBar } from "./features/statusBar";
import { TrajectoryDocuments } from "./features/trajectory";

let daemon: Daemon | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  logInfo(`activating zwarm ${context.extension.packageJSON.version ?? ""}`);
  daemon = new Daemon(readSettings());
  const store = new SessionStore(daemon);
  const tree = new SessionsTree(store);
  const trajectories = new TrajectoryDocuments(daemon);
  const orchestrator = new OrchestratorFeed(daemon);
  context.subscriptions.push(
    outputChannel(),
    daemon,
    store,
    tree,
    trajectories,
    orchestrator,
    vscode.window.createTreeView(SESSIONS_VIEW, { treeDataProvider: tree, showCollapseAll: true }),
    createStatusBar(store),
    new ChangedLines(context, daemon),
    ...registerCommands({ daemon, store, trajectories, orchestrator }),
    onSettingsChanged((settings) => void daemon?.applySettings(settings)),
  );
  // Not awaited: the view, status bar and commands are usable (and say so) while the
  // daemon starts, and a failed start must not fail activation.
  void daemon.startReporting();
}

export async function deactivate(): Promise<void> {
  await daemon?.stop();
  daemon = undefined;
}
