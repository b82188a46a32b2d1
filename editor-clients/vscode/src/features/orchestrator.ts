// The orchestrator and the pilot, rendered: their steps (`zwarm/orchestratorUpdated`) go
// to a "zwarm orchestrator" output channel, the end of a run becomes a notification, and
// their questions to the user (`zwarm/chat`) become an input box or a quick pick.

import * as vscode from "vscode";
import type { Daemon } from "../common/server";
import { isRunFinished, runFinishedText, runShownLines, runStepLine } from "../model/orchestrator";
import type { ChatQuestion, ChatAnswer, OrchestratorUpdated, RunTrajectoryResult } from "../protocol";

export class OrchestratorFeed implements vscode.Disposable {
  private readonly channel = vscode.window.createOutputChannel("zwarm orchestrator", { log: true });
  private readonly announced = new Set<string>();
  private readonly subscription: vscode.Disposable;

  constructor(daemon: Daemon) {
    this.subscription = daemon.onOrchestratorUpdated((u) => this.apply(u));
    daemon.setChatHandler((p) => ask(p));
  }

  show(): void {
    this.channel.show(true);
  }

  /** A run picked from the runs list: its task and every step so far, in the channel. */
  showRun(r: RunTrajectoryResult): void {
    for (const line of runShownLines(r)) {
      this.channel.info(line);
    }
    this.show();
  }

  dispose(): void {
    this.subscription.dispose();
    this.channel.dispose();
  }

  private apply(u: OrchestratorUpdated): void {
    for (const step of u.newSteps) {
      this.channel.info(runStepLine(u, step));
    }
    const key = `${u.kind}:${u.runId}`;
    if (!isRunFinished(u.status)) {
      this.announced.delete(key); // the pilot runs again on the next message
      return;
    }
    if (this.announced.has(key)) {
      return;
    }
    this.announced.add(key);
    const text = runFinishedText(u);
    this.channel.info(text);
    // The pilot's reply is shown by the Pilot command itself; only runs get a message.
    if (u.kind === "orchestrator") {
      const show = u.status === "failed" ? vscode.window.showErrorMessage : vscode.window.showInformationMessage;
      void show(text, "Show Log").then((choice) => choice && this.show());
    }
  }
}

async function ask(p: ChatQuestion): Promise<ChatAnswer> {
  const title = "zwarm asks";
  if (p.options && p.options.length > 0) {
    const answer = await vscode.window.showQuickPick(p.options, { title, placeHolder: p.message, ignoreFocusOut: true });
    return { answer: answer ?? null };
  }
  const answer = await vscode.window.showInputBox({ title, prompt: p.message, ignoreFocusOut: true });
  return { answer: answer ?? null };
}
