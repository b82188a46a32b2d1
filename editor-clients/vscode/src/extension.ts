// Activation only wires the parts together; each part lives in common/ or features/.

import * as vscode from "vscode";
import { SESSIONS_VIEW } from "./common/constants";
import { logInfo, outputChannel } from "./common/logging";
import { Daemon } from "./common/server";
import { onSettingsChanged, readSettings } from "./common/settings";
import { ChangeSets, registerChangeCommands } from "./features/changes";
import { registerCommands } from "./features/commands";
import { ChangedLines } from "./features/decorations";
import { OrchestratorFeed } from "./features/orchestrator";
import { SessionStore } from "./features/sessionStore";
import { SessionsTree } from "./features/sessionsView";
import { createStatusBar } from "./features/statusBar";
import { TrajectoryDocuments } from "./features/trajectory";
import { sessionIdFromArg } from "./model/sessions";

let daemon: Daemon | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  logInfo(`activating zwarm ${context.extension.packageJSON.version ?? ""}`);
  daemon = new Daemon(readSettings());
  const store = new SessionStore(daemon);
  const changes = new ChangeSets(daemon);
  const tree = new SessionsTree(store, changes);
  const view = vscode.window.createTreeView(SESSIONS_VIEW, { treeDataProvider: tree, showCollapseAll: true });
  // Review commands act on their argument, else on the session selected in the view.
  const sessionOf = (arg: unknown) => sessionIdFromArg(arg) ?? sessionIdFromArg(view.selection[0]);
  const trajectories = new TrajectoryDocuments(daemon);
  const orchestrator = new OrchestratorFeed(daemon);
  context.subscriptions.push(
    outputChannel(),
    daemon,
    store,
    tree,
    trajectories,
    orchestrator,
    changes,
    ...registerChangeCommands(changes, store, sessionOf),
    view,
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
