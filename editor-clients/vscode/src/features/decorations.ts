// Lines agents changed, from `zwarm/decorations`: a gutter mark, a faint line highlight
// and an overview ruler mark, one look per session status. Asked again for the visible
// editors whenever sessions change or other editors come into view.
// The hover on those lines (which session, which step) is the daemon's own
// textDocument/hover, which vscode-languageclient already shows; giving the decorations
// the same text as `hoverMessage` would show it twice.

import * as vscode from "vscode";
import { logError } from "../common/logging";
import type { Daemon } from "../common/server";
import { byStatus, DECORATED_STATUSES, isDecoratable } from "../model/decorations";
import { Methods, type Decoration, type DecorationsResult, type Status } from "../protocol";

const REFRESH_DELAY_MS = 200;

const COLORS: Record<Status, string> = {
  pending: "charts.yellow",
  running: "charts.blue",
  completed: "charts.green",
  failed: "charts.red",
  killed: "charts.foreground",
};

function decorationType(context: vscode.ExtensionContext, status: Status): vscode.TextEditorDecorationType {
  const color = new vscode.ThemeColor(COLORS[status]);
  return vscode.window.createTextEditorDecorationType({
    isWholeLine: true,
    gutterIconPath: context.asAbsolutePath(`media/gutter-${status}.svg`),
    gutterIconSize: "contain",
    overviewRulerColor: color,
    overviewRulerLane: vscode.OverviewRulerLane.Left,
    backgroundColor: new vscode.ThemeColor("editor.rangeHighlightBackground"),
  });
}

function toOption(d: Decoration): vscode.DecorationOptions {
  const range = new vscode.Range(d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character);
  return { range };
}

export class ChangedLines implements vscode.Disposable {
  private readonly types: Map<Status, vscode.TextEditorDecorationType>;
  private readonly subscriptions: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(context: vscode.ExtensionContext, private readonly daemon: Daemon) {
    this.types = new Map(DECORATED_STATUSES.map((s) => [s, decorationType(context, s)]));
    this.subscriptions.push(
      daemon.onSessionUpdated(() => this.schedule()),
      daemon.onDidChangeRunning(() => this.schedule()),
      vscode.window.onDidChangeVisibleTextEditors(() => this.schedule()),
      vscode.workspace.onDidSaveTextDocument(() => this.schedule()),
      // An agent's edit reaches an open editor as a reload from disk, which leaves the
      // document clean; decorations set before the reload would sit on shifted lines.
      // Typing (which makes it dirty) does not ask again.
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (!e.document.isDirty && e.contentChanges.length > 0 && isDecoratable(e.document.uri.scheme)) {
          this.schedule();
        }
      }),
    );
  }

  /** Coalesce bursts (a running agent pushes often) into one round of requests. */
  schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.refreshVisible(), REFRESH_DELAY_MS);
  }

  async refreshVisible(): Promise<void> {
    const editors = vscode.window.visibleTextEditors.filter((e) => isDecoratable(e.document.uri.scheme));
    await Promise.all(editors.map((e) => this.refresh(e)));
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.subscriptions.forEach((d) => d.dispose());
    this.types.forEach((t) => t.dispose());
  }

  private async refresh(editor: vscode.TextEditor): Promise<void> {
    if (!this.daemon.isRunning) {
      this.apply(editor, []);
      return;
    }
    try {
      const result = await this.daemon.request<DecorationsResult>(Methods.decorations, {
        uri: editor.document.uri.toString(),
      });
      this.apply(editor, result.decorations);
    } catch (error) {
      logError(`decorations for ${editor.document.uri.fsPath}`, error);
    }
  }

  private apply(editor: vscode.TextEditor, decorations: Decoration[]): void {
    const grouped = byStatus(decorations);
    for (const [status, type] of this.types) {
      editor.setDecorations(type, (grouped.get(status) ?? []).map(toOption));
    }
  }
}
