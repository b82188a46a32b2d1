// Trajectories as read-only markdown documents in the `zwarm:` scheme. The daemon renders
// the markdown (`zwarm/renderTrajectory`); an open document is re-read whenever the
// daemon pushes an update for its session, so it follows a running agent live.

import * as vscode from "vscode";
import { TRAJECTORY_SCHEME } from "../common/constants";
import type { Daemon } from "../common/server";
import { describeError } from "../model/errors";
import { sessionIdFromQuery, trajectoryUriParts } from "../model/trajectoryUri";
import { Methods, type RenderResult } from "../protocol";

const UPDATE_DELAY_MS = 150;

export function trajectoryUri(sessionId: string): vscode.Uri {
  return vscode.Uri.from(trajectoryUriParts(TRAJECTORY_SCHEME, sessionId));
}

export class TrajectoryDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly subscriptions: vscode.Disposable[];

  readonly onDidChange = this.changed.event;

  constructor(private readonly daemon: Daemon) {
    this.subscriptions = [
      vscode.workspace.registerTextDocumentContentProvider(TRAJECTORY_SCHEME, this),
      daemon.onSessionUpdated((u) => this.scheduleUpdate(u.session.id)),
    ];
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const sessionId = sessionIdFromQuery(uri.query);
    if (!sessionId) {
      return "# zwarm\n\nThis address names no session.\n";
    }
    try {
      const result = await this.daemon.request<RenderResult>(Methods.render, { sessionId });
      return result.markdown;
    } catch (error) {
      return `# zwarm\n\n${describeError("rendering the trajectory", Methods.render, error)}\n`;
    }
  }

  async open(sessionId: string): Promise<vscode.TextEditor> {
    const uri = trajectoryUri(sessionId);
    // Already on screen (from a lens, the tree or the palette): bring that one forward
    // rather than opening a second copy beside it.
    const shown = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === uri.toString());
    const document = shown?.document ?? (await vscode.workspace.openTextDocument(uri));
    if (document.languageId !== "markdown") {
      await vscode.languages.setTextDocumentLanguage(document, "markdown");
    }
    return vscode.window.showTextDocument(document, {
      preview: false,
      viewColumn: shown?.viewColumn ?? vscode.ViewColumn.Beside,
    });
  }

  dispose(): void {
    this.timers.forEach((t) => clearTimeout(t));
    this.subscriptions.forEach((d) => d.dispose());
    this.changed.dispose();
  }

  /** Only sessions with an open document are re-rendered; a burst becomes one render. */
  private scheduleUpdate(sessionId: string): void {
    const uri = trajectoryUri(sessionId);
    const open = vscode.workspace.textDocuments.some((d) => d.uri.toString() === uri.toString());
    if (!open) {
      return;
    }
    clearTimeout(this.timers.get(sessionId));
    this.timers.set(
      sessionId,
      setTimeout(() => {
        this.timers.delete(sessionId);
        this.changed.fire(uri);
      }, UPDATE_DELAY_MS),
    );
  }
}
