// How sessions are shown: tree groups, labels, icons, quick pick rows and the status bar
// text. Everything shown is taken from what the daemon reported; nothing is computed
// about the sessions themselves beyond choosing words and icons for them.

import type { SessionCounts, SessionRow, Status } from "../protocol";

export interface StatusLook {
  /** A codicon id (`$(id)` in labels, `new ThemeIcon(id)` in trees). */
  icon: string;
  /** A theme color id for the icon, or undefined for the default foreground. */
  color?: string;
}

const LOOKS: Record<Status, StatusLook> = {
  pending: { icon: "clock", color: "charts.yellow" },
  running: { icon: "sync~spin", color: "charts.blue" },
  completed: { icon: "pass", color: "testing.iconPassed" },
  failed: { icon: "error", color: "testing.iconFailed" },
  killed: { icon: "circle-slash", color: "disabledForeground" },
};

export function statusLook(status: Status, needsAttention = false): StatusLook {
  const look = LOOKS[status] ?? { icon: "question" };
  // A finished session nobody looked at yet gets the warning color so it stands out.
  if (needsAttention && status === "completed") {
    return { icon: "pass-filled", color: "notificationsWarningIcon.foreground" };
  }
  return look;
}

export interface SessionGroup {
  key: "active" | "completed" | "failed" | "killed";
  label: string;
  sessions: SessionRow[];
}

const GROUP_OF: Record<Status, SessionGroup["key"]> = {
  pending: "active",
  running: "active",
  completed: "completed",
  failed: "failed",
  killed: "killed",
};

const GROUP_LABELS: Record<SessionGroup["key"], string> = {
  active: "Running",
  completed: "Completed",
  failed: "Failed",
  killed: "Killed",
};

const GROUP_ORDER: SessionGroup["key"][] = ["active", "failed", "completed", "killed"];

/** Non-empty groups in a fixed order; inside a group, the daemon's order is kept. */
export function groupSessions(sessions: SessionRow[]): SessionGroup[] {
  const buckets = new Map<SessionGroup["key"], SessionRow[]>();
  for (const s of sessions) {
    const key = GROUP_OF[s.status] ?? "killed";
    buckets.set(key, [...(buckets.get(key) ?? []), s]);
  }
  return GROUP_ORDER.filter((k) => buckets.has(k)).map((key) => ({
    key,
    label: GROUP_LABELS[key],
    sessions: buckets.get(key) ?? [],
  }));
}

export function oneLine(text: string, max: number): string {
  const flat = text.split(/\s+/).filter(Boolean).join(" ");
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

export function sessionLabel(s: SessionRow): string {
  return oneLine(s.task, 60);
}

/** Whether the session holds hunks nobody decided yet. */
export function awaitsReview(s: SessionRow): boolean {
  return !!s.changes && s.changes.pending + s.changes.conflict > 0;
}

/** What is left to review and who else works on the same lines, in a few words. */
export function reviewText(s: SessionRow): string {
  const parts: string[] = [];
  const c = s.changes;
  if (c && !c.known) {
    parts.push("changes unknown");
  } else if (c && c.pending + c.conflict > 0) {
    parts.push(`${c.pending + c.conflict} to review`);
  }
  const overlapping = [...new Set(s.overlaps.map((o) => o.shortId))];
  if (overlapping.length > 0) {
    parts.push(`⚠ overlaps ${overlapping.join(", ")}`);
  }
  return parts.join(" · ");
}

/** The grey text after the label: who runs it, what is left to review, what it did last. */
export function sessionDescription(s: SessionRow): string {
  const latest = s.status === "failed" && s.error ? s.error : (s.activity ?? s.latestStep);
  const parts = [`${s.adapter} ${s.shortId}`, s.status];
  if (s.needsAttention) {
    parts.push("needs attention");
  }
  const review = reviewText(s);
  if (review) {
    parts.push(review);
  }
  if (latest) {
    parts.push(oneLine(latest, 50));
  }
  return parts.join(" · ");
}

/** Markdown for the tree item's hover; `latestMessage` is the agent's last reply, which
 * rows leave out (peekSession has it). */
export function sessionTooltip(s: SessionRow, latestMessage?: string): string {
  const cost = typeof s.costUsd === "number" ? ` · $${s.costUsd.toFixed(4)}` : "";
  const lines = [
    `**${s.adapter} ${s.shortId}** — ${s.status}${s.needsAttention ? " (needs attention)" : ""}`,
    "",
    oneLine(s.task, 300),
    "",
    `model \`${s.model}\` · turn ${s.turn} · ${s.stepCount} steps${cost}`,
  ];
  const c = s.changes;
  if (c && !c.known) {
    lines.push("", "changes unknown (made outside zwarm-ls)");
  } else if (c) {
    const where = s.isolation === "worktree" ? "in its own worktree" : "in place";
    lines.push("", `${c.files} file${c.files === 1 ? "" : "s"} changed ${where}: ${c.pending} pending, ${c.applied} applied, ${c.discarded} discarded, ${c.conflict} conflicting`);
  }
  for (const o of s.overlaps) {
    lines.push("", `⚠ overlaps ${o.shortId} in \`${o.path.replace(/^.*\//, "")}\` line ${o.range.start.line + 1}`);
  }
  if (latestMessage) {
    lines.push("", `> ${oneLine(latestMessage, 200)}`);
  }
  if (s.error) {
    lines.push("", `**error**: ${oneLine(s.error, 200)}`);
  }
  return lines.join("\n");
}

export function isActive(s: SessionRow): boolean {
  return s.status === "running" || s.status === "pending";
}

/** `viewItem` for menus: actions like End only make sense while a session runs. */
export function contextValue(s: SessionRow): string {
  return isActive(s) ? "zwarmSession.active" : "zwarmSession.done";
}

export interface PickRow {
  label: string;
  description: string;
  detail: string;
  sessionId: string;
}

export function pickRow(s: SessionRow): PickRow {
  const look = statusLook(s.status, s.needsAttention);
  return {
    label: `$(${look.icon.replace("~spin", "")}) ${s.shortId} ${sessionLabel(s)}`,
    description: `${s.adapter} · ${s.status}`,
    detail: oneLine(s.activity ?? s.latestStep ?? "", 100),
    sessionId: s.id,
  };
}

/** Status bar text from the daemon's counts. */
export function statusBarText(counts: SessionCounts | undefined): string {
  if (!counts) {
    return "$(hubot) zwarm";
  }
  const running = counts.running + counts.pending;
  const parts = ["$(hubot) zwarm"];
  if (running > 0) {
    parts.push(`$(sync~spin) ${running}`);
  }
  if (counts.needsAttention > 0) {
    parts.push(`$(bell-dot) ${counts.needsAttention}`);
  }
  return parts.join(" ");
}

export function statusBarTooltip(counts: SessionCounts | undefined): string {
  if (!counts) {
    return "zwarm: daemon not connected";
  }
  const sessions = counts.total === 1 ? "1 session" : `${counts.total} sessions`;
  return `zwarm: ${counts.running + counts.pending} running, ${counts.needsAttention} need attention, ${sessions} in all`;
}

/**
 * Put a pushed summary into the list the daemon last returned: replace the session in
 * place, or put a new one first (the daemon lists newest first).
 */
export function upsertSession(list: SessionRow[], s: SessionRow): SessionRow[] {
  const at = list.findIndex((x) => x.id === s.id);
  if (at < 0) {
    return [s, ...list];
  }
  const copy = list.slice();
  copy[at] = s;
  return copy;
}

/** A `zwarm/sessionUpdated` push applied to the list: a deleted session leaves it. */
export function applyUpdate(list: SessionRow[], update: { session: SessionRow; removed?: boolean }): SessionRow[] {
  return update.removed ? list.filter((s) => s.id !== update.session.id) : upsertSession(list, update.session);
}

/**
 * The session a command is about, from whatever invoked it: a Sessions tree row, a code
 * lens (`{sessionId}`), a plain id, or nothing (then the command asks).
 */
export function sessionIdFromArg(arg: unknown): string | undefined {
  if (typeof arg === "string") {
    return arg || undefined;
  }
  if (typeof arg !== "object" || arg === null) {
    return undefined;
  }
  if ("sessionId" in arg && typeof arg.sessionId === "string") {
    return arg.sessionId || undefined;
  }
  if ("session" in arg && typeof arg.session === "object" && arg.session !== null && "id" in arg.session) {
    const id = (arg.session as { id: unknown }).id;
    return typeof id === "string" && id ? id : undefined;
  }
  return undefined;
}
