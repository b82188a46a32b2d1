import type { SessionCounts, SessionRow } from "../src/protocol";

export function row(over: Partial<SessionRow> = {}): SessionRow {
  const id = over.id ?? "0123456789abcdef";
  return {
    id,
    shortId: id.slice(0, 8),
    task: "Fix the parser",
    adapter: "codex",
    model: "gpt-5.1-codex-mini",
    status: "running",
    turn: 1,
    updatedAt: "2026-01-01T00:00:00Z",
    stepCount: 0,
    needsAttention: false,
    overlaps: [],
    ...over,
  };
}

export function counts(over: Partial<SessionCounts> = {}): SessionCounts {
  return { total: 0, running: 0, completed: 0, failed: 0, killed: 0, pending: 0, needsAttention: 0, ...over };
}
