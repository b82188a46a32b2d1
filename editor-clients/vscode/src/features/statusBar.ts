// The status bar item: running / needs-attention counts from the daemon; a click opens
// the Sessions view.

import * as vscode from "vscode";
import { Commands } from "../common/constants";
import { statusBarText, statusBarTooltip } from "../model/sessions";
import type { SessionStore } from "./sessionStore";

export function createStatusBar(store: SessionStore): vscode.Disposable {
  const item = vscode.window.createStatusBarItem("zwarm-ls.status", vscode.StatusBarAlignment.Left, 50);
  item.name = "zwarm sessions";
  item.command = Commands.showSessions;
  const render = (): void => {
    item.text = statusBarText(store.counts);
    item.tooltip = statusBarTooltip(store.counts);
    const attention = (store.counts?.needsAttention ?? 0) > 0;
    item.backgroundColor = attention ? new vscode.ThemeColor("statusBarItem.warningBackground") : undefined;
  };
  render();
  item.show();
  const subscription = store.onDidChange(render);
  return vscode.Disposable.from(item, subscription);
}
