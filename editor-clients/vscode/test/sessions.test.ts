import { describe, expect, it } from "vitest";
import {
  applyUpdate,
  awaitsReview,
  contextValue,
  groupSessions,
  oneLine,
  pickRow,
  reviewText,
  sessionDescription,
  sessionIdFromArg,
  sessionTooltip,
  statusBarText,
  statusBarTooltip,
  statusLook,
  upsertSession,
} from "../src/model/sessions";
import { counts, row } from "./fixtures";

describe("groupSessions", () => {
  it("groups by status in a fixed order, keeping the daemon's order inside a group", () => {
    const list = [
      row({ id: "a", status: "completed" }),
      row({ id: "b", status: "running" }),
      row({ id: "c", status: "pending" }),
      row({ id: "d", status: "failed" }),
      row({ id: "e", status: "completed" }),
    ];
    const groups = groupSessions(list);
    expect(groups.map((g) => [g.label, g.sessions.map((s) => s.id)])).toEqual([
      ["Running", ["b", "c"]],
      ["Failed", ["d"]],
      ["Completed", ["a", "e"]],
    ]);
  });

  it("has no groups without sessions", () => {
    expect(groupSessions([])).toEqual([]);
  });
});

describe("labels and looks", () => {
  it("gives every status an icon and marks unseen completions", () => {
    expect(statusLook("running").icon).toBe("sync~spin");
    expect(statusLook("failed").icon).toBe("error");
    expect(statusLook("completed", true).icon).toBe("pass-filled");
    expect(statusLook("killed").icon).toBe("circle-slash");
  });

  it("describes a session by adapter, id, status and latest step", () => {
    const s = row({ latestStep: "ran  `pytest`\n ok", needsAttention: true, status: "completed" });
    expect(sessionDescription(s)).toBe("codex 01234567 · completed · needs attention · ran `pytest` ok");
  });

  it("says what is left to review and which live session overlaps", () => {
    const changes = { files: 1, pending: 2, applied: 1, discarded: 0, conflict: 1, known: true };
    const overlap = {
      sessionId: "9f8e7d6c00", shortId: "9f8e7d6c", path: "file:///w/calc.py",
      range: { start: { line: 4, character: 0 }, end: { line: 5, character: 0 } },
    };
    const s = row({ status: "completed", changes, overlaps: [overlap, overlap], isolation: "worktree" });
    expect(reviewText(s)).toBe("3 to review · ⚠ overlaps 9f8e7d6c");
    expect(sessionDescription(s)).toBe("codex 01234567 · completed · 3 to review · ⚠ overlaps 9f8e7d6c");
    expect(sessionTooltip(s)).toContain("1 file changed in its own worktree: 2 pending, 1 applied, 0 discarded, 1 conflicting");
    expect(sessionTooltip(s)).toContain("⚠ overlaps 9f8e7d6c in `calc.py` line 5");
    expect(reviewText(row({ changes: { ...changes, pending: 0, conflict: 0 } }))).toBe("");
    expect(awaitsReview(s)).toBe(true);
    expect(awaitsReview(row({ changes: { ...changes, pending: 0, conflict: 0 } }))).toBe(false);
    expect(awaitsReview(row())).toBe(false);
    expect(reviewText(row({ changes: { ...changes, known: false } }))).toBe("changes unknown");
    expect(sessionTooltip(row({ changes: { ...changes, known: false } }))).toContain("changes unknown (made outside zwarm-ls)");
  });

  it("shows what a session cost in its tooltip when the daemon knows it", () => {
    expect(sessionTooltip(row({ turn: 2, stepCount: 7, costUsd: 0.12345 }))).toContain("turn 2 · 7 steps · $0.1235");
    expect(sessionTooltip(row())).not.toContain("$");
  });

  it("quotes the agent's last reply in the tooltip when it is given", () => {
    expect(sessionTooltip(row(), "Fixed the parser; tests pass.")).toContain("> Fixed the parser; tests pass.");
    expect(sessionTooltip(row())).not.toContain(">");
  });

  it("shows the error of a failed session", () => {
    expect(sessionDescription(row({ status: "failed", error: "exit 1", latestStep: "x" }))).toContain("exit 1");
  });

  it("clips long text on one line", () => {
    expect(oneLine("a\n b   c", 10)).toBe("a b c");
    expect(oneLine("x".repeat(20), 10)).toBe(`${"x".repeat(9)}…`);
  });

  it("lets menus tell running sessions from finished ones", () => {
    expect(contextValue(row({ status: "pending" }))).toBe("zwarmSession.active");
    expect(contextValue(row({ status: "killed" }))).toBe("zwarmSession.done");
  });

  it("makes quick pick rows that carry the full id", () => {
    const pick = pickRow(row({ activity: "running tests" }));
    expect(pick.sessionId).toBe("0123456789abcdef");
    expect(pick.label).toBe("$(sync) 01234567 Fix the parser");
    expect(pick.detail).toBe("running tests");
  });
});

describe("status bar", () => {
  it("shows running and needs-attention counts from the daemon", () => {
    expect(statusBarText(counts({ running: 2, pending: 1, needsAttention: 1 }))).toBe(
      "$(hubot) zwarm $(sync~spin) 3 $(bell-dot) 1",
    );
    expect(statusBarText(counts())).toBe("$(hubot) zwarm");
    expect(statusBarText(undefined)).toBe("$(hubot) zwarm");
    expect(statusBarTooltip(undefined)).toContain("not connected");
    expect(statusBarTooltip(counts({ total: 4, running: 1 }))).toBe(
      "zwarm: 1 running, 0 need attention, 4 sessions in all",
    );
    expect(statusBarTooltip(counts({ total: 1, completed: 1, needsAttention: 1 }))).toBe(
      "zwarm: 0 running, 1 need attention, 1 session in all",
    );
  });
});

describe("upsertSession", () => {
  it("replaces a known session in place and puts a new one first", () => {
    const list = [row({ id: "a" }), row({ id: "b" })];
    const updated = upsertSession(list, row({ id: "b", status: "completed" }));
    expect(updated.map((s) => [s.id, s.status])).toEqual([
      ["a", "running"],
      ["b", "completed"],
    ]);
    expect(list[1].status).toBe("running");
    expect(upsertSession(list, row({ id: "c" })).map((s) => s.id)).toEqual(["c", "a", "b"]);
  });

  it("drops a session the daemon says was deleted", () => {
    const list = [row({ id: "a" }), row({ id: "b" })];
    expect(applyUpdate(list, { session: row({ id: "a" }), removed: true }).map((s) => s.id)).toEqual(["b"]);
    expect(applyUpdate(list, { session: row({ id: "a", status: "failed" }) })[0].status).toBe("failed");
  });
});

describe("sessionIdFromArg", () => {
  it("reads every way a command is invoked", () => {
    expect(sessionIdFromArg("abc")).toBe("abc");
    expect(sessionIdFromArg({ sessionId: "lens" })).toBe("lens");
    expect(sessionIdFromArg({ kind: "session", session: row({ id: "tree" }) })).toBe("tree");
    expect(sessionIdFromArg(undefined)).toBeUndefined();
    expect(sessionIdFromArg("")).toBeUndefined();
    expect(sessionIdFromArg({ kind: "group" })).toBeUndefined();
  });
});
