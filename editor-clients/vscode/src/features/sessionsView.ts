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
import { fileDescription, fileLabel, pendingCount } from "../model/changes";
import type { FileChange, SessionRow } from "../protocol";
import type { ChangeSets } from "./changes";
import type { SessionStore } from "./sessionStore";

export type SessionNode = { kind: "session"; session: SessionRow };
type GroupNode = { kind: "group"; group: SessionGroup };
type FileNode = { kind: "file"; sessionId: string; file: FileChange };
type Node = GroupNode | SessionNode | FileNode;

export class SessionsTree implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  private readonly subscription: vscode.Disposable;

  readonly onDidChangeTreeData = this.changed.event;

  constructor(
    private readonly store: SessionStore,
    private readonly changes: ChangeSets,
  ) {
    this.subscription = vscode.Disposable.from(
      store.onDidChange(() => this.changed.fire(undefined)),
      changes.onDidChange(() => this.changed.fire(undefined)),
    );
  }

  async getChildren(node?: Node): Promise<Node[]> {
    if (!node) {
      return groupSessions(this.store.sessions).map((group) => ({ kind: "group", group }));
    }
    if (node.kind === "group") {
      return node.group.sessions.map((session) => ({ kind: "session", session }));
    }
    if (node.kind === "session") {
      // A session's change set: its files, each opening the diff editor.
      const id = node.session.id;
      const changes = this.changes.get(id) ?? (await this.changes.load(id));
      return (changes?.files ?? []).map((file) => ({ kind: "file", sessionId: id, file }));
    }
    return [];
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node.kind === "group") {
      return groupItem(node.group);
    }
    return node.kind === "session" ? sessionItem(node.session) : fileItem(node.sessionId, node.file);
  }

  /** The tooltip, on hover: the row and the agent's last reply, which rows leave out. */
  async resolveTreeItem(item: vscode.TreeItem, node: Node): Promise<vscode.TreeItem> {
    if (node.kind === "session") {
      const latest = await this.store.latestMessage(node.session.id);
      item.tooltip = new vscode.MarkdownString(sessionTooltip(node.session, latest));
    }
    return item;
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

function sessionItem(s: SessionRow): vscode.TreeItem {
  const hasFiles = (s.changes?.files ?? 0) > 0;
  const item = new vscode.TreeItem(
    sessionLabel(s),
    hasFiles ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None,
  );
  // The id includes the status so VS Code redraws the row when the session moves group.
  item.id = `session:${s.id}:${s.status}`;
  item.description = sessionDescription(s);
  // No tooltip here: resolveTreeItem writes it on hover (only an unset one is resolved).
  const look = statusLook(s.status, s.needsAttention);
  item.iconPath = new vscode.ThemeIcon(look.icon, look.color ? new vscode.ThemeColor(look.color) : undefined);
  const pending = (s.changes?.pending ?? 0) + (s.changes?.conflict ?? 0);
  item.contextValue = contextValue(s) + (pending > 0 ? ".review" : "");
  item.command = { command: Commands.showTrajectory, title: "Show Trajectory", arguments: [{ sessionId: s.id }] };
  return item;
}

function fileItem(sessionId: string, file: FileChange): vscode.TreeItem {
  const item = new vscode.TreeItem(fileLabel(file), vscode.TreeItemCollapsibleState.None);
  item.id = `file:${sessionId}:${file.relPath}`;
  item.description = fileDescription(file);
  item.resourceUri = vscode.Uri.parse(file.path);
  item.iconPath = pendingCount(file) > 0 ? new vscode.ThemeIcon("diff") : new vscode.ThemeIcon("check");
  item.contextValue = "zwarmChangedFile";
  item.command = {
    command: Commands.openFileDiff,
    title: "Open Changes",
    arguments: [{ sessionId, relPath: file.relPath }],
  };
  return item;
}
