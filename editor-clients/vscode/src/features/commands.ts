// Every command of the palette, the Sessions view and the code lenses. Each one gathers
// input (input box, quick pick), makes one daemon request and shows the answer; failures
// become one error message that carries the daemon's message and hint.

import * as vscode from "vscode";
import { Commands, SESSIONS_VIEW, VIEW_CONTAINER } from "../common/constants";
import { logError, outputChannel } from "../common/logging";
import { DaemonNotRunning, type Daemon } from "../common/server";
import { readSettings } from "../common/settings";
import { describeError } from "../model/errors";
import { overlapText } from "../model/changes";
import { orchestrateText, runPick } from "../model/orchestrator";
import { agentPicks, delegateParams } from "../model/delegate";
import { checkText, delegatedText, peekText, replyText } from "../model/results";
import { isActive, pickRow, sessionIdFromArg } from "../model/sessions";
import {
  Methods,
  type CheckResult,
  type ConverseResult,
  type DelegateResult,
  type EndResult,
  type ListRunsResult,
  type OrchestrateResult,
  type PeekResult,
  type PilotResult,
  type RunTrajectoryResult,
  type SessionRow,
} from "../protocol";
import type { OrchestratorFeed } from "./orchestrator";
import type { SessionStore } from "./sessionStore";
import type { TrajectoryDocuments } from "./trajectory";

interface Deps {
  daemon: Daemon;
  store: SessionStore;
  trajectories: TrajectoryDocuments;
  orchestrator: OrchestratorFeed;
}

/** Run a command body; report a failure once, in words, instead of an unhandled rejection. */
async function guarded(action: string, method: string, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    logError(action, error);
    if (error instanceof DaemonNotRunning) {
      const choice = await vscode.window.showErrorMessage(`zwarm: ${error.message}`, "Restart Server");
      if (choice) {
        await vscode.commands.executeCommand(Commands.restartServer);
      }
      return;
    }
    void vscode.window.showErrorMessage(describeError(action, method, error));
  }
}

async function pickSession(
  store: SessionStore,
  title: string,
  filter: (s: SessionRow) => boolean = () => true,
): Promise<string | undefined> {
  await store.refresh();
  const candidates = store.sessions.filter(filter);
  if (candidates.length === 0) {
    void vscode.window.showInformationMessage("zwarm: no matching sessions.");
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(candidates.map(pickRow), {
    title,
    placeHolder: "Session (type to filter by id, task or status)",
    matchOnDescription: true,
    matchOnDetail: true,
  });
  return picked?.sessionId;
}

async function sessionFor(
  deps: Deps,
  arg: unknown,
  title: string,
  filter?: (s: SessionRow) => boolean,
): Promise<string | undefined> {
  return sessionIdFromArg(arg) ?? pickSession(deps.store, title, filter);
}

function offerTrajectory(deps: Deps, sessionId: string, text: string, error = false): void {
  const show = error ? vscode.window.showErrorMessage : vscode.window.showInformationMessage;
  void show(text, "Show Trajectory").then((choice) => {
    if (choice) {
      void deps.trajectories.open(sessionId);
    }
  });
}

async function delegateTask(deps: Deps): Promise<void> {
  const task = await vscode.window.showInputBox({
    title: "zwarm: Delegate Task",
    prompt: "What should the agent do? It works in this workspace.",
    ignoreFocusOut: true,
    validateInput: (v) => (v.trim() ? undefined : "Describe the task"),
  });
  if (!task) {
    return;
  }
  const settings = readSettings();
  const picked = await vscode.window.showQuickPick(agentPicks(settings.defaultAdapter), { title: "zwarm: which agent?" });
  if (!picked) {
    return;
  }
  const params = delegateParams({ task, adapter: picked.adapter, isolation: settings.isolation });
  const result = await deps.daemon.request<DelegateResult>(Methods.delegate, params);
  announceDelegated(deps, result);
}

/** The new session's id, and a warning when it works on lines another live session has. */
function announceDelegated(deps: Deps, result: DelegateResult): void {
  if (!result.overlaps?.length) {
    offerTrajectory(deps, result.sessionId, delegatedText(result));
    return;
  }
  void vscode.window.showWarningMessage(overlapText(result.shortId, result.overlaps), "Keep Going", "End It").then((choice) =>
    // The daemon announces the end itself (as for every session that ends).
    choice === "End It"
      ? guarded("ending the session", Methods.end, async () => {
          await deps.daemon.request<EndResult>(Methods.end, { sessionId: result.sessionId, reason: "overlaps another session" });
        })
      : undefined,
  );
}

/**
 * The selection goes to the daemon as a range: the daemon writes the task text for the
 * code (the same text for every editor); the user's words, if any, are the instruction.
 */
async function delegateSelection(deps: Deps): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.selection.isEmpty) {
    void vscode.window.showWarningMessage("zwarm: select the code to delegate first.");
    return;
  }
  // Taken now: the pickers below take the focus, and the cursor may move meanwhile.
  const selection = deps.daemon.anchorOf(editor.document, editor.selection);
  const settings = readSettings();
  const picked = await vscode.window.showQuickPick(agentPicks(settings.defaultAdapter, "Delegate this to "), {
    title: "zwarm: Delegate Selection",
  });
  if (!picked) {
    return;
  }
  const instruction = await vscode.window.showInputBox({
    title: `zwarm: ${picked.label}`,
    prompt: "What should the agent do with the selected code? Leave empty: what its comments (TODO, FIXME) ask.",
    ignoreFocusOut: true,
  });
  if (instruction === undefined) {
    return;
  }
  const params = delegateParams({ task: instruction, adapter: picked.adapter, isolation: settings.isolation, selection });
  const result = await deps.daemon.request<DelegateResult>(Methods.delegate, params);
  announceDelegated(deps, result);
}

async function peek(deps: Deps, arg: unknown): Promise<void> {
  const sessionId = await sessionFor(deps, arg, "zwarm: Peek");
  if (sessionId) {
    const result = await deps.daemon.request<PeekResult>(Methods.peek, { sessionId });
    offerTrajectory(deps, result.sessionId, peekText(result));
  }
}

async function check(deps: Deps, arg: unknown): Promise<void> {
  const sessionId = await sessionFor(deps, arg, "zwarm: Check");
  if (sessionId) {
    const result = await deps.daemon.request<CheckResult>(Methods.check, { sessionId });
    offerTrajectory(deps, result.sessionId, checkText(result), result.status === "failed");
  }
}

async function showTrajectory(deps: Deps, arg: unknown): Promise<void> {
  const sessionId = await sessionFor(deps, arg, "zwarm: Show Trajectory");
  if (sessionId) {
    await deps.trajectories.open(sessionId);
  }
}

async function converse(deps: Deps, arg: unknown): Promise<void> {
  // A running turn has to finish first (the daemon refuses), so only finished ones are offered.
  const sessionId = await sessionFor(deps, arg, "zwarm: Converse", (s) => !isActive(s));
  if (!sessionId) {
    return;
  }
  const message = await vscode.window.showInputBox({
    title: `zwarm: message to ${sessionId.slice(0, 8)}`,
    prompt: "The agent continues its own conversation with this message.",
    ignoreFocusOut: true,
    validateInput: (v) => (v.trim() ? undefined : "Write a message"),
  });
  if (!message) {
    return;
  }
  const result = await deps.daemon.request<ConverseResult>(Methods.converse, { sessionId, message });
  offerTrajectory(deps, result.sessionId, `zwarm: sent to ${result.sessionId.slice(0, 8)}; turn ${result.turn} is ${result.status}`);
}

async function endSession(deps: Deps, arg: unknown): Promise<void> {
  const sessionId = await sessionFor(deps, arg, "zwarm: End Session", isActive);
  if (!sessionId) {
    return;
  }
  const confirm = await vscode.window.showWarningMessage(
    `End zwarm session ${sessionId.slice(0, 8)}? A running agent is stopped.`,
    { modal: true },
    "End Session",
  );
  if (confirm) {
    const result = await deps.daemon.request<EndResult>(Methods.end, { sessionId, reason: "ended from VS Code" });
    void vscode.window.showInformationMessage(`zwarm: session ${result.sessionId.slice(0, 8)} ${result.status}`);
  }
}

async function orchestrate(deps: Deps): Promise<void> {
  const task = await vscode.window.showInputBox({
    title: "zwarm: Orchestrate",
    prompt: "A larger task: the orchestrator plans it and delegates the parts to agents.",
    ignoreFocusOut: true,
    validateInput: (v) => (v.trim() ? undefined : "Describe the task"),
  });
  if (task) {
    // Answers at once; the steps follow in the output channel, the end as a message.
    const result = await deps.daemon.request<OrchestrateResult>(Methods.orchestrate, { task });
    deps.orchestrator.show();
    void vscode.window.showInformationMessage(orchestrateText(result));
  }
}

async function pilot(deps: Deps): Promise<void> {
  const message = await vscode.window.showInputBox({
    title: "zwarm: Pilot",
    prompt: "Talk to the pilot; it drives the agents turn by turn.",
    ignoreFocusOut: true,
    validateInput: (v) => (v.trim() ? undefined : "Write a message"),
  });
  if (message) {
    // The request answers when the pilot's turn is over; its steps stream meanwhile.
    deps.orchestrator.show();
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: "zwarm pilot is working…" },
      () => deps.daemon.request<PilotResult>(Methods.pilot, { message }),
    );
    void vscode.window.showInformationMessage(`zwarm pilot (${result.checkpoint}): ${replyText(result)}`);
  }
}

async function runs(deps: Deps): Promise<void> {
  const result = await deps.daemon.request<ListRunsResult>(Methods.listRuns, {});
  if (result.runs.length === 0) {
    void vscode.window.showInformationMessage("zwarm: no orchestrator runs yet (zwarm: Orchestrate…)");
    return;
  }
  const picked = await vscode.window.showQuickPick(result.runs.map(runPick), {
    title: "zwarm: Orchestrator Runs",
    placeHolder: "Pick a run to see its steps",
    matchOnDescription: true,
    matchOnDetail: true,
  });
  if (!picked) {
    return;
  }
  const steps = await deps.daemon.request<RunTrajectoryResult>(Methods.runTrajectory, { runId: picked.runId });
  deps.orchestrator.showRun(steps);
  const run = result.runs.find((r) => r.runId === picked.runId);
  if (run?.resumable) {
    const choice = await vscode.window.showInformationMessage(`zwarm: run ${run.runId} is ${run.status}.`, "Resume");
    if (choice === "Resume") {
      // Like Orchestrate: answers at once, the steps stream into the channel.
      const resumed = await deps.daemon.request<OrchestrateResult>(Methods.resumeRun, { runId: run.runId });
      void vscode.window.showInformationMessage(orchestrateText(resumed));
    }
  }
}

export function registerCommands(deps: Deps): vscode.Disposable[] {
  const on = (id: string, action: string, method: string, body: (arg: unknown) => Promise<void>) =>
    vscode.commands.registerCommand(id, (arg: unknown) => guarded(action, method, () => body(arg)));
  return [
    on(Commands.delegateTask, "delegating", Methods.delegate, () => delegateTask(deps)),
    on(Commands.delegateSelection, "delegating the selection", Methods.delegate, () => delegateSelection(deps)),
    on(Commands.peek, "peek", Methods.peek, (a) => peek(deps, a)),
    on(Commands.check, "check", Methods.check, (a) => check(deps, a)),
    on(Commands.showTrajectory, "showing the trajectory", Methods.render, (a) => showTrajectory(deps, a)),
    on(Commands.openTrajectory, "showing the trajectory", Methods.render, (a) => showTrajectory(deps, a)),
    on(Commands.converse, "converse", Methods.converse, (a) => converse(deps, a)),
    on(Commands.endSession, "ending the session", Methods.end, (a) => endSession(deps, a)),
    on(Commands.orchestrate, "Orchestrate", Methods.orchestrate, () => orchestrate(deps)),
    on(Commands.pilot, "Pilot", Methods.pilot, () => pilot(deps)),
    on(Commands.runs, "listing orchestrator runs", Methods.listRuns, () => runs(deps)),
    on(Commands.refreshSessions, "listing sessions", Methods.list, () => deps.store.refresh()),
    vscode.commands.registerCommand(Commands.showSessions, async () => {
      await vscode.commands.executeCommand(`workbench.view.extension.${VIEW_CONTAINER}`);
      await vscode.commands.executeCommand(`${SESSIONS_VIEW}.focus`);
    }),
    vscode.commands.registerCommand(Commands.restartServer, () => deps.daemon.restart()),
    vscode.commands.registerCommand(Commands.showLog, () => outputChannel().show()),
  ];
}
