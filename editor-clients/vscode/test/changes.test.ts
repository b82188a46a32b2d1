import { describe, expect, it } from "vitest";
import {
  changesTitle,
  conflictText,
  daemonSnapshotUri,
  diffTitle,
  fileDescription,
  hunkAt,
  lensLine,
  movedHunks,
  movedText,
  overlapText,
  shownSnapshotUri,
  skippedText,
  snapshotParts,
  undecided,
} from "../src/model/changes";
import type { FileChange, Hunk, SessionChangesResult } from "../src/protocol";

const range = (start: number, end: number) => ({
  start: { line: start, character: 0 },
  end: { line: end, character: 0 },
});

function hunk(id: string, state: Hunk["state"], oldLines: [number, number], newLines: [number, number], turn = 1): Hunk {
  return {
    id, turn, state, oldRange: range(...oldLines), newRange: range(...newLines),
    added: newLines[1] - newLines[0], removed: oldLines[1] - oldLines[0], preview: "x",
  };
}

const file: FileChange = {
  path: "file:///w/app.py", relPath: "app.py", status: "modified",
  baseUri: "zwarm-snapshot:/s1/base/app.py", resultUri: "zwarm-snapshot:/s1/result/app.py",
  added: 3, removed: 1,
  hunks: [hunk("a", "pending", [1, 2], [1, 3]), hunk("b", "applied", [10, 10], [11, 12], 2),
    hunk("c", "conflict", [20, 21], [21, 22])],
};

describe("change set model", () => {
  it("reads snapshot URIs in the daemon's form and in the editor's", () => {
    const parts = { sessionId: "s1", side: "result", path: "src/app.py" };
    expect(snapshotParts("zwarm-snapshot:/s1/result/src/app.py")).toEqual(parts);
    expect(snapshotParts("zwarm-snapshot:/src/app.py?s1/result")).toEqual(parts);
    expect(snapshotParts("file:///x")).toBeUndefined();
  });

  it("gives both sides of a diff the file's own path, and maps back for the daemon", () => {
    const shown = shownSnapshotUri("zwarm-snapshot:/s1-2/base/src/app.py");
    expect(shown).toBe("zwarm-snapshot:/src/app.py?s1-2/base");
    expect(daemonSnapshotUri(shown)).toBe("zwarm-snapshot:/s1-2/base/src/app.py");
    expect(daemonSnapshotUri("zwarm-snapshot:/s1-2/base/src/app.py")).toBe("zwarm-snapshot:/s1-2/base/src/app.py");
    expect(shownSnapshotUri("file:///x")).toBe("file:///x");
  });

  it("describes a file with its counts and states", () => {
    expect(fileDescription(file)).toBe("+3 −1 · 1 pending · 1 applied · 1 conflict");
    expect(fileDescription({ ...file, status: "added" })).toContain("added");
  });

  it("titles the diff with session, turns and what is left to review", () => {
    const changes = { shortId: "1a2b3c4d" } as SessionChangesResult;
    expect(diffTitle(changes, file)).toBe("app.py · zwarm 1a2b3c4d turn 1,2 · 2 to review");
    expect(diffTitle(changes, { ...file, hunks: [file.hunks[1]] })).toContain("reviewed");
  });

  it("finds the hunk at a line on either side, and an insertion point", () => {
    expect(hunkAt(file, 2, "result")?.id).toBe("a");
    expect(hunkAt(file, 1, "base")?.id).toBe("a");
    expect(hunkAt(file, 10, "base")?.id).toBe("b"); // a pure insertion sits on its line
    expect(hunkAt(file, 5, "result")).toBeUndefined();
  });

  it("puts lenses on the hunks that wait for a decision", () => {
    expect(undecided(file).map((h) => h.id)).toEqual(["a", "c"]);
    expect(lensLine(file.hunks[0])).toBe(1);
  });

  it("words conflicts and overlaps", () => {
    expect(conflictText([{ hunkId: "c", path: "file:///w/app.py", reason: "overlap", detail: "changed since" }]))
      .toBe("zwarm: nothing applied: hunk c conflicts (overlap: changed since)");
    expect(overlapText("bbbb2222", [{ shortId: "aaaa1111" }, { shortId: "aaaa1111" }]))
      .toBe("zwarm: session bbbb2222 overlaps aaaa1111 on the same lines. End it, or keep going?");
  });

  it("titles a whole session's changes", () => {
    const changes = { shortId: "1a2b3c4d", files: [file, { ...file, relPath: "b.py", hunks: [] }] } as unknown as SessionChangesResult;
    expect(changesTitle(changes)).toBe("zwarm 1a2b3c4d · 2 to review");
  });

  it("refuses a lens drawn before its hunk was decided elsewhere", () => {
    const changes = { files: [file] } as unknown as SessionChangesResult;
    // Drawn pending, still pending (or now conflicting): the click goes through.
    expect(movedHunks(changes, { sessionId: "s1", hunkIds: ["a"], drawnAs: "pending" })).toEqual([]);
    expect(movedHunks(changes, { sessionId: "s1", hunkIds: ["c"], drawnAs: "pending" })).toEqual([]);
    // Drawn pending, applied meanwhile: a Reject now would take the accept back.
    const moved = movedHunks(changes, { sessionId: "s1", hunkIds: ["b"], drawnAs: "pending" });
    expect(moved).toEqual([{ hunkId: "b", now: "applied" }]);
    expect(movedText(moved)).toBe("zwarm: nothing done: hunk b was applied meanwhile; the view is up to date now");
    // Gone from the change set (a daemon restarted with other ids, a session cleaned).
    expect(movedHunks(changes, { sessionId: "s1", hunkIds: ["zz"] })).toEqual([{ hunkId: "zz", now: undefined }]);
    expect(movedText([{ hunkId: "zz" }])).toContain("no longer in the session's change set");
    // A key on an applied hunk (no drawn state) may still reject it.
    expect(movedHunks(changes, { sessionId: "s1", hunkIds: ["b"] })).toEqual([]);
  });

  it("words hunks the daemon skipped", () => {
    expect(skippedText([{ hunkId: "0123456789ab", reason: "already applied" }, { hunkId: "x", reason: "r" }]))
      .toBe("zwarm: nothing done: hunk 01234567: already applied (and 1 more)");
  });
});
