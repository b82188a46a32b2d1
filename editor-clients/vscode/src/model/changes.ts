// Change sets as the client shows them: tree labels, diff titles, where each hunk's
// Accept / Reject goes, and which hunk is at a line. Pure (no `vscode` import), so the
// unit tests run in plain Node. Every decision stays with the daemon.

import type { FileChange, Hunk, HunkConflict, HunkState, SessionChangesResult, SkippedHunk } from "../protocol";

export const SNAPSHOT_SCHEME = "zwarm-snapshot";

export interface SnapshotParts {
  sessionId: string;
  side: string;
  path: string;
}

// The daemon names a snapshot `zwarm-snapshot:/<sessionId>/<side>/<path>`. The editor is
// given `zwarm-snapshot:/<path>?<sessionId>/<side>` instead: both sides of a diff then have
// the file's own path, which VS Code shows as their name (and, in the multi-file diff,
// does not take for a rename of `…/base/x` to `…/result/x`).
const DAEMON_FORM = /^zwarm-snapshot:\/([^/?]+)\/([^/?]+)\/([^?]+)$/;
const SHOWN_FORM = /^zwarm-snapshot:\/([^?]+)\?([^/]+)\/([^/]+)$/;

/** A snapshot URI in either form → its parts, or undefined. */
export function snapshotParts(uri: string): SnapshotParts | undefined {
  const shown = SHOWN_FORM.exec(uri);
  if (shown) {
    return { sessionId: shown[2], side: shown[3], path: shown[1] };
  }
  const daemon = DAEMON_FORM.exec(uri);
  return daemon ? { sessionId: daemon[1], side: daemon[2], path: daemon[3] } : undefined;
}

/** The URI the editor opens for a snapshot the daemon named. */
export function shownSnapshotUri(daemonUri: string): string {
  const parts = snapshotParts(daemonUri);
  return parts ? `${SNAPSHOT_SCHEME}:/${parts.path}?${parts.sessionId}/${parts.side}` : daemonUri;
}

/** The URI `zwarm/fileContent` takes for a snapshot the editor opened. */
export function daemonSnapshotUri(uri: string): string {
  const parts = snapshotParts(uri);
  return parts ? `${SNAPSHOT_SCHEME}:/${parts.sessionId}/${parts.side}/${parts.path}` : uri;
}

export function pendingCount(file: FileChange): number {
  return file.hunks.filter((h) => h.state === "pending" || h.state === "conflict").length;
}

export function fileLabel(file: FileChange): string {
  return file.relPath;
}

export function fileDescription(file: FileChange): string {
  const counts = `+${file.added} −${file.removed}`;
  const states = new Map<string, number>();
  for (const h of file.hunks) {
    states.set(h.state, (states.get(h.state) ?? 0) + 1);
  }
  const parts = [...states].map(([state, n]) => `${n} ${state}`);
  return [counts, file.status === "modified" ? "" : file.status, ...parts].filter(Boolean).join(" · ");
}

export function diffTitle(changes: SessionChangesResult, file: FileChange): string {
  const turns = [...new Set(file.hunks.map((h) => h.turn))].sort((a, b) => a - b);
  const pending = pendingCount(file);
  const state = pending ? `${pending} to review` : "reviewed";
  return `${file.relPath} · zwarm ${changes.shortId} turn ${turns.join(",") || "-"} · ${state}`;
}

/** The title of the multi-file diff of a whole session (VS Code adds "(N files)"). */
export function changesTitle(changes: SessionChangesResult): string {
  const pending = changes.files.reduce((n, f) => n + pendingCount(f), 0);
  return `zwarm ${changes.shortId} · ${pending ? `${pending} to review` : "reviewed"}`;
}

/** The hunk whose lines (on the given side) hold `line` (0-based), if any. */
export function hunkAt(file: FileChange, line: number, side: "base" | "result"): Hunk | undefined {
  return file.hunks.find((h) => {
    const r = side === "base" ? h.oldRange : h.newRange;
    const last = Math.max(r.end.line, r.start.line + 1);
    return line >= r.start.line && line < last;
  });
}

/** Where a hunk's Accept / Reject lens goes in the diff editor's result side. */
export function lensLine(hunk: Hunk): number {
  return hunk.newRange.start.line;
}

/** Which hunks still wait for a decision (those Accept / Reject lenses are shown for). */
export function undecided(file: FileChange): Hunk[] {
  return file.hunks.filter((h) => h.state === "pending" || h.state === "conflict");
}

/**
 * What a lens or a key acts on: the hunks, and the state they were drawn in. The state lets
 * the client refuse a click on a lens drawn before the hunk was decided elsewhere (a stale
 * Reject would otherwise take back a hunk that was just accepted).
 */
export interface HunkTarget {
  sessionId: string;
  hunkIds: string[];
  drawnAs?: HunkState;
}

const isUndecided = (state: HunkState) => state === "pending" || state === "conflict";

/** The target's hunks that are gone from the change set or were decided since drawn. */
export function movedHunks(changes: SessionChangesResult, target: HunkTarget): { hunkId: string; now?: HunkState }[] {
  const hunks = new Map(changes.files.flatMap((f) => f.hunks.map((h) => [h.id, h] as const)));
  const moved: { hunkId: string; now?: HunkState }[] = [];
  for (const hunkId of target.hunkIds) {
    const now = hunks.get(hunkId)?.state;
    const drawn = target.drawnAs;
    if (!now || (drawn && now !== drawn && !(isUndecided(now) && isUndecided(drawn)))) {
      moved.push({ hunkId, now });
    }
  }
  return moved;
}

export function movedText(moved: { hunkId: string; now?: HunkState }[]): string {
  const first = moved[0];
  const what = first.now ? `was ${first.now} meanwhile` : "is no longer in the session's change set";
  return `zwarm: nothing done: hunk ${first.hunkId.slice(0, 8)} ${what}; the view is up to date now`;
}

/** Hunks the daemon left alone (already decided, for example), when nothing else happened. */
export function skippedText(skipped: SkippedHunk[]): string {
  const first = skipped[0];
  const more = skipped.length > 1 ? ` (and ${skipped.length - 1} more)` : "";
  return `zwarm: nothing done: hunk ${first.hunkId.slice(0, 8)}: ${first.reason}${more}`;
}

export function conflictText(conflicts: HunkConflict[]): string {
  const first = conflicts[0];
  const more = conflicts.length > 1 ? ` (and ${conflicts.length - 1} more)` : "";
  return `zwarm: nothing applied: hunk ${first.hunkId} conflicts (${first.reason}${first.detail ? `: ${first.detail}` : ""})${more}`;
}

/** The warning after a delegate that works on lines other live sessions hold. */
export function overlapText(shortId: string, overlaps: { shortId: string }[]): string {
  const ids = [...new Set(overlaps.map((o) => o.shortId))].join(", ");
  return `zwarm: session ${shortId} overlaps ${ids} on the same lines. End it, or keep going?`;
}
