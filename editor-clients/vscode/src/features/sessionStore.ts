// The client's copy of the session list: filled by `zwarm/listSessions`, patched by each
// `zwarm/sessionUpdated` push, and re-listed shortly after a burst of pushes so the
// counts (which only the daemon computes) stay right.

import * as vscode from "vscode";
import { ContextKeys } from "../common/constants";
import { logError } from "../common/logging";
import type { Daemon } from "../common/server";
import { applyUpdate } from "../model/sessions";
import { Methods, type ListResult, type PeekResult, type SessionCounts, type SessionRow, type SessionUpdated } from "../protocol";

const RELIST_DELAY_MS = 250;

export class SessionStore implements vscode.Disposable {
  private list: SessionRow[] = [];
  private latestCounts: SessionCounts | undefined;
  private relistTimer: NodeJS.Timeout | undefined;
  private readonly changed = new vscode.EventEmitter<void>();
  private readonly subscriptions: vscode.Disposable[] = [];

  readonly onDidChange = this.changed.event;

  constructor(private readonly daemon: Daemon) {
    this.subscriptions.push(
      daemon.onSessionUpdated((u) => this.apply(u)),
      daemon.onDidChangeRunning((running) => (running ? void this.refresh() : this.clear())),
    );
  }

  get sessions(): SessionRow[] {
    return this.list;
  }

  get counts(): SessionCounts | undefined {
    return this.latestCounts;
  }

  find(sessionId: string): SessionRow | undefined {
    return this.list.find((s) => s.id === sessionId);
  }

  /** The agent's last reply, which rows leave out: asked when a tooltip shows it. */
  async latestMessage(sessionId: string): Promise<string | undefined> {
    try {
      return (await this.daemon.request<PeekResult>(Methods.peek, { sessionId })).latestMessage;
    } catch (error) {
      logError("peeking a session", error);
      return undefined;
    }
  }

  async refresh(): Promise<void> {
    try {
      const result = await this.daemon.request<ListResult>(Methods.list, {});
      this.list = result.sessions;
      this.latestCounts = result.counts;
      this.fire();
    } catch (error) {
      logError("listing sessions", error);
    }
  }

  dispose(): void {
    clearTimeout(this.relistTimer);
    this.subscriptions.forEach((d) => d.dispose());
    this.changed.dispose();
  }

  private apply(update: SessionUpdated): void {
    this.list = applyUpdate(this.list, update);
    this.fire();
    clearTimeout(this.relistTimer);
    this.relistTimer = setTimeout(() => void this.refresh(), RELIST_DELAY_MS);
  }

  private clear(): void {
    this.list = [];
    this.latestCounts = undefined;
    this.fire();
  }

  private fire(): void {
    void vscode.commands.executeCommand("setContext", ContextKeys.hasSessions, this.list.length > 0);
    this.changed.fire();
  }
}
