// Reviewing change sets in VS Code: `zwarm-snapshot:` documents (base and result of a
// file) from `zwarm/fileContent`, the diff editor between them with Accept / Reject
// lenses on each hunk waiting for a decision, keyboard commands for the hunk at the
// cursor, and Accept All / Reject All. Applying is the daemon's `workspace/applyEdit`,
// so Ctrl+Z undoes it; a conflict is a notification with its reason.

import * as vscode from "vscode";
import { Commands, ServerCommands } from "../common/constants";
import { logError } from "../common/logging";
import type { Daemon } from "../common/server";
import type { SessionStore } from "./sessionStore";
import {
  SNAPSHOT_SCHEME,
  changesTitle,
  conflictText,
  diffTitle,
  hunkAt,
  lensLine,
  movedHunks,
  movedText,
  skippedText,
  daemonSnapshotUri,
  shownSnapshotUri,
  snapshotParts,
  undecided,
  type HunkTarget,
} from "../model/changes";
import { describeError, isSessionNotFound } from "../model/errors";
import { awaitsReview, pickRow } from "../model/sessions";
import {
  Methods,
  type ApplyChangesResult,
  type DiscardChangesResult,
  type FileChange,
  type FileContentResult,
  type HunkState,
  type SessionChangesResult,
} from "../protocol";

export class ChangeSets implements vscode.Disposable {
  private readonly cache = new Map<string, SessionChangesResult>();
  private readonly changed = new vscode.EventEmitter<string>();
  private readonly snapshotsChanged = new vscode.EventEmitter<vscode.Uri>();
  private readonly lensesChanged = new vscode.EventEmitter<void>();
  private readonly subscriptions: vscode.Disposable[] = [];

  /** A session's change set was (re)loaded. */
  readonly onDidChange = this.changed.event;

  constructor(private readonly daemon: Daemon) {
    // The daemon's Accept / Reject lenses in the user's files (drawn for undecided hunks
    // only) get the same checks and messages as the client's own.
    daemon.interceptCommands((command, args) => {
      const verb = command === ServerCommands.applyChanges ? "accept" : command === ServerCommands.discardChanges ? "reject" : undefined;
      const arg = args[0] as Partial<HunkTarget> | undefined;
      if (!verb || !arg?.sessionId) {
        return undefined;
      }
      const target = arg.hunkIds ? { sessionId: arg.sessionId, hunkIds: arg.hunkIds, drawnAs: "pending" as const } : { sessionId: arg.sessionId };
      return this.decide(verb, target).catch((error: unknown) => {
        logError(`${verb}ing from the daemon's lens`, error);
        void vscode.window.showErrorMessage(describeError(`${verb}ing the hunk`, command, error));
        return false;
      });
    });
    const provider: vscode.TextDocumentContentProvider = {
      onDidChange: this.snapshotsChanged.event,
      provideTextDocumentContent: (uri) => this.content(uri),
    };
    const lenses: vscode.CodeLensProvider = {
      onDidChangeCodeLenses: this.lensesChanged.event,
      provideCodeLenses: (doc) => this.diffLenses(doc),
    };
    this.subscriptions.push(
      vscode.workspace.registerTextDocumentContentProvider(SNAPSHOT_SCHEME, provider),
      vscode.languages.registerCodeLensProvider({ scheme: SNAPSHOT_SCHEME }, lenses),
      daemon.onChangesUpdated((u) => void this.load(u.sessionId)),
      daemon.onSessionUpdated((u) => {
        if (u.removed && this.cache.delete(u.session.id)) {
          this.changed.fire(u.session.id);
          this.lensesChanged.fire();
        }
      }),
      // A restarted daemon may know other states (or sessions): forget, and ask again.
      daemon.onDidChangeRunning((running) => {
        if (running && this.cache.size > 0) {
          this.forgetAll();
        }
      }),
    );
  }

  get(sessionId: string): SessionChangesResult | undefined {
    return this.cache.get(sessionId);
  }

  async load(sessionId: string): Promise<SessionChangesResult | undefined> {
    try {
      const changes = await this.daemon.request<SessionChangesResult>(Methods.sessionChanges, { sessionId });
      this.cache.set(changes.sessionId, changes);
      this.changed.fire(changes.sessionId);
      this.lensesChanged.fire();
      for (const f of changes.files) {
        this.snapshotsChanged.fire(vscode.Uri.parse(shownSnapshotUri(f.resultUri)));
      }
      return changes;
    } catch (error) {
      logError(`reading the change set of ${sessionId}`, error);
      if (isSessionNotFound(error) && this.cache.delete(sessionId)) {
        // Deleted meanwhile: its files and lenses go away with it.
        this.changed.fire(sessionId);
        this.lensesChanged.fire();
      }
      return undefined;
    }
  }

  private forgetAll(): void {
    const shown = [...this.cache.keys()];
    this.cache.clear();
    this.changed.fire("");
    this.lensesChanged.fire();
    // What is on screen (expanded sessions, open diffs) is read again from the new daemon.
    for (const sessionId of shown) {
      void this.load(sessionId);
    }
  }

  private async content(uri: vscode.Uri): Promise<string> {
    const result = await this.daemon.request<FileContentResult>(Methods.fileContent, { uri: daemonSnapshotUri(uri.toString(true)) });
    return result.text;
  }

  private async diffLenses(doc: vscode.TextDocument): Promise<vscode.CodeLens[]> {
    const parts = snapshotParts(doc.uri.toString(true));
    // A diff left open across a daemon restart (or a window reload) has no change set yet.
    const changes = parts && (this.cache.get(parts.sessionId) ?? (await this.load(parts.sessionId)));
    const file = changes?.files.find((f) => f.relPath === parts?.path);
    if (!parts || parts.side !== "result" || !changes || !file) {
      return [];
    }
    return undecided(file).flatMap((hunk) => {
      const range = new vscode.Range(lensLine(hunk), 0, lensLine(hunk), 0);
      const args: HunkTarget = { sessionId: changes.sessionId, hunkIds: [hunk.id], drawnAs: hunk.state };
      const tag = hunk.state === "conflict" ? " (conflict)" : "";
      return [
        new vscode.CodeLens(range, { title: `$(check) Accept${tag}`, command: Commands.acceptHunk, arguments: [args] }),
        new vscode.CodeLens(range, { title: "$(close) Reject", command: Commands.rejectHunk, arguments: [args] }),
      ];
    });
  }

  /**
   * Open a session's changes: one file in the diff editor (`relPath`, or the only file),
   * or every file in the multi-file diff.
   */
  async openDiff(sessionId: string, relPath?: string, options?: vscode.TextDocumentShowOptions): Promise<void> {
    const changes = (await this.load(sessionId)) ?? this.cache.get(sessionId);
    if (!changes || changes.files.length === 0) {
      void vscode.window.showInformationMessage(`zwarm: ${changes?.note ?? "this session changed no files"}`);
      return;
    }
    const file: FileChange | undefined = relPath === undefined
      ? (changes.files.length === 1 ? changes.files[0] : undefined)
      : changes.files.find((f) => f.relPath === relPath);
    if (relPath !== undefined && !file) {
      void vscode.window.showInformationMessage(`zwarm: session ${changes.shortId} no longer changes ${relPath}`);
      return;
    }
    if (!file) {
      await vscode.commands.executeCommand(
        "vscode.changes",
        changesTitle(changes),
        changes.files.map((f) => [vscode.Uri.parse(f.path), snapshotUri(f.baseUri), snapshotUri(f.resultUri)]),
      );
      return;
    }
    const base = snapshotUri(file.baseUri);
    const result = snapshotUri(file.resultUri);
    const title = diffTitle(changes, file);
    // VS Code brings back an open diff of the same documents with its old title; the
    // title carries the review state, so a stale one is closed and the diff reopened.
    const stale = vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((tab) =>
      tab.input instanceof vscode.TabInputTextDiff &&
      tab.input.original.toString() === base.toString() &&
      tab.input.modified.toString() === result.toString() &&
      tab.label !== title);
    if (stale.length > 0) {
      await vscode.window.tabGroups.close(stale, true);
    }
    await vscode.commands.executeCommand("vscode.diff", base, result, title, options);
  }

  /**
   * The diff the user decided in shows the new state in its title: VS Code cannot rename
   * an open editor, so it is reopened in place, the cursor where it was.
   */
  private async retitleActiveDiff(changes: SessionChangesResult): Promise<void> {
    const tab = vscode.window.tabGroups.activeTabGroup.activeTab;
    if (!tab || !(tab.input instanceof vscode.TabInputTextDiff)) {
      return;
    }
    const modified = tab.input.modified;
    const parts = snapshotParts(modified.toString(true));
    const file = parts?.sessionId === changes.sessionId ? changes.files.find((f) => f.relPath === parts.path) : undefined;
    if (!file || tab.label === diffTitle(changes, file)) {
      return;
    }
    const editor = vscode.window.activeTextEditor;
    const selection = editor?.document.uri.toString() === modified.toString() ? editor.selection : undefined;
    await this.openDiff(changes.sessionId, file.relPath, { selection, viewColumn: tab.group.viewColumn });
  }

  /**
   * Accept (`apply`) or reject (`discard`) hunks; without ids, all that wait. A target
   * drawn in a state the hunk has left (decided in another editor, a restarted daemon, a
   * deleted session) is refused before anything is sent, so nothing is decided twice.
   */
  async decide(verb: "accept" | "reject", target: HunkTarget | { sessionId: string; hunkIds?: undefined }): Promise<boolean> {
    const { sessionId, hunkIds } = target;
    if (hunkIds) {
      // Without a fresh change set (daemon down, session gone) the request itself says why.
      const fresh = await this.load(sessionId);
      const moved = fresh ? movedHunks(fresh, target) : [];
      if (moved.length > 0) {
        void vscode.window.showInformationMessage(movedText(moved));
        return false;
      }
    }
    const method = verb === "accept" ? Methods.applyChanges : Methods.discardChanges;
    let result: ApplyChangesResult | DiscardChangesResult;
    try {
      result = await this.daemon.request<ApplyChangesResult | DiscardChangesResult>(method, { sessionId, hunkIds });
    } finally {
      // Whatever the answer (an error included), the view shows the daemon's state.
      const changes = await this.load(sessionId);
      if (changes) {
        await this.retitleActiveDiff(changes);
      }
    }
    if (result.conflicts.length > 0) {
      void vscode.window.showWarningMessage(conflictText(result.conflicts));
      return false;
    }
    const done = "applied" in result ? result.applied : result.discarded;
    if (done.length === 0 && result.skipped.length > 0) {
      void vscode.window.showInformationMessage(skippedText(result.skipped));
      return false;
    }
    return true;
  }

  /** The hunk at the cursor: in a `zwarm-snapshot:` result document, or in the file. */
  hunkAtCursor(editor: vscode.TextEditor): { sessionId: string; hunkId: string; state: HunkState } | undefined {
    const line = editor.selection.active.line;
    const parts = snapshotParts(editor.document.uri.toString(true));
    if (parts) {
      const file = this.cache.get(parts.sessionId)?.files.find((f) => f.relPath === parts.path);
      const hunk = file && hunkAt(file, line, parts.side === "base" ? "base" : "result");
      return hunk ? { sessionId: parts.sessionId, hunkId: hunk.id, state: hunk.state } : undefined;
    }
    const uri = editor.document.uri.toString();
    for (const changes of this.cache.values()) {
      const file = changes.files.find((f) => f.path === uri);
      const hunk = file && undecided(file).find((h) => hunkAt({ ...file, hunks: [h] }, line, "base"));
      if (hunk) {
        return { sessionId: changes.sessionId, hunkId: hunk.id, state: hunk.state };
      }
    }
    return undefined;
  }

  dispose(): void {
    this.subscriptions.forEach((d) => d.dispose());
    this.changed.dispose();
    this.snapshotsChanged.dispose();
    this.lensesChanged.dispose();
  }
}

/** The editor's URI for a snapshot the daemon named (see `shownSnapshotUri`). */
function snapshotUri(daemonUri: string): vscode.Uri {
  return vscode.Uri.parse(shownSnapshotUri(daemonUri));
}

type HunkArg = Partial<HunkTarget> | undefined;

/** The review commands: diff, accept / reject a hunk (lens or cursor), accept / reject all. */
/** Which session a review command is about when nothing names one: ask, among those with hunks to review. */
async function pickSessionToReview(store: SessionStore, title: string): Promise<string | undefined> {
  const rows = store.sessions.filter(awaitsReview).map(pickRow);
  if (rows.length === 0) {
    void vscode.window.showInformationMessage("zwarm: no session has hunks to review.");
    return undefined;
  }
  return (await vscode.window.showQuickPick(rows, { title, matchOnDescription: true, matchOnDetail: true }))?.sessionId;
}

export function registerChangeCommands(
  changes: ChangeSets,
  store: SessionStore,
  selected: (arg: unknown) => string | undefined,
): vscode.Disposable[] {
  const sessionOf = async (arg: unknown, title: string) => selected(arg) ?? (await pickSessionToReview(store, title));
  const decideHunk = (verb: "accept" | "reject") => async (arg: HunkArg) => {
    let target: HunkTarget | undefined =
      arg?.sessionId && arg.hunkIds ? { sessionId: arg.sessionId, hunkIds: arg.hunkIds, drawnAs: arg.drawnAs } : undefined;
    if (!target && vscode.window.activeTextEditor) {
      const at = changes.hunkAtCursor(vscode.window.activeTextEditor);
      target = at && { sessionId: at.sessionId, hunkIds: [at.hunkId], drawnAs: at.state };
    }
    if (!target) {
      void vscode.window.showInformationMessage("zwarm: no agent hunk at the cursor");
      return;
    }
    await changes.decide(verb, target);
  };
  const decideAll = (verb: "accept" | "reject") => async (arg: unknown) => {
    const sessionId = await sessionOf(arg, verb === "accept" ? "zwarm: Accept All Changes of…" : "zwarm: Reject All Changes of…");
    if (sessionId) {
      await changes.decide(verb, { sessionId });
    }
  };
  const openChanges = async (arg: unknown) => {
    const sessionId = await sessionOf(arg, "zwarm: Review Changes of…");
    if (sessionId) {
      await changes.openDiff(sessionId);
    }
  };
  const guard = (action: string, method: string, fn: (arg: never) => Promise<void>) => async (arg: never) => {
    try {
      await fn(arg);
    } catch (error) {
      logError(action, error);
      void vscode.window.showErrorMessage(describeError(action, method, error));
    }
  };
  return [
    vscode.commands.registerCommand(Commands.openChanges, guard("opening the changes", Methods.sessionChanges, openChanges)),
    vscode.commands.registerCommand(Commands.openFileDiff, guard("opening the diff", Methods.fileContent,
      async (arg: { sessionId: string; relPath: string }) => changes.openDiff(arg.sessionId, arg.relPath))),
    vscode.commands.registerCommand(Commands.acceptHunk, guard("accepting the hunk", Methods.applyChanges, decideHunk("accept"))),
    vscode.commands.registerCommand(Commands.rejectHunk, guard("rejecting the hunk", Methods.discardChanges, decideHunk("reject"))),
    vscode.commands.registerCommand(Commands.acceptAll, guard("accepting the changes", Methods.applyChanges, decideAll("accept"))),
    vscode.commands.registerCommand(Commands.rejectAll, guard("rejecting the changes", Methods.discardChanges, decideAll("reject"))),
  ];
}
