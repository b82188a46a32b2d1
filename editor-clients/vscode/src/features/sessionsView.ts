// The Sessions tree: one node per status group, one child per session, refreshed from
// the store (which the daemon's pushes keep current).

import * as vscode from "vscode";
import { Commands } from "../common/constants";
import {
  contextValue,
  groupSessions,
  sessionDescription,
  sessionLabel,
  sessionTooltip,
  statusLook,
  type SessionGroup,
} from "../model/sessions";
import type { SessionSummary } from "../protocol";
import type { SessionStore } from "./sessionStore";

export type SessionNode = { kind: "session"; session: SessionSummary };
type GroupNode = { kind: "group"; group: SessionGroup };
type Node = GroupNode | SessionNode;

export class SessionsTree implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  private readonly subscription: vscode.Disposable;

  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly store: SessionStore) {
    this.subscription = store.onDidChange(() => this.changed.fire(undefined));
  }

  getChildren(node?: Node): Node[] {
    if (!node) {
      return groupSessions(this.store.sessions).map((group) => ({ kind: "group", group }));
    }
    return node.kind === "group" ? node.group.sessions.map((session) => ({ kind: "session", session })) : [];
  }

  getTreeItem(node: Node): vscode.TreeItem {
    return node.kind === "group" ? groupItem(node.group) : sessionItem(node.session);
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}

function groupItem(group: SessionGroup): vscode.TreeItem {
  const item = new vscode.TreeItem(group.label, vscode.TreeItemCollapsibleState.Expanded);
  // A stable id keeps the group's expanded/collapsed state across refreshes.
  item.id = `group:${group.key}`;
  item.description = String(group.sessions.length);
  item.contextValue = "zwarmGroup";
  return item;
}

function sessionItem(s: SessionSummary): vscode.TreeItem {
  const item = new vscode.TreeItem(sessionLabel(s), vscode.TreeItemCollapsibleState.None);
  // The id includes the status so VS Code redraws the row when the session moves group.
  item.id = `session:${s.id}:${s.status}`;
  item.description = sessionDescription(s);
  item.tooltip = new vscode.MarkdownString(sessionTooltip(s));
  const look = statusLook(s.status, s.needsAttention);
  item.iconPath = new vscode.ThemeIcon(look.icon, look.color ? new vscode.ThemeColor(look.color) : undefined);
  item.contextValue = contextValue(s);
  item.command = { command: Commands.showTrajectory, title: "Show Trajectory", arguments: [{ sessionId: s.id }] };
  return item;
}
