import { describe, expect, it } from "vitest";
import { agentPicks, delegateParams } from "../src/model/delegate";

const selection = {
  uri: "file:///w/calc.py",
  range: { start: { line: 0, character: 0 }, end: { line: 2, character: 16 } },
};

describe("delegate params", () => {
  it("sends a selection as its range, never as task text the client wrote", () => {
    expect(delegateParams({ task: "", adapter: "codex", isolation: "worktree", selection })).toEqual({
      selection,
      adapter: "codex",
      isolation: "worktree",
    });
  });

  it("sends the user's words as the instruction for the selection", () => {
    expect(delegateParams({ task: "  add a type check ", adapter: "", isolation: "", selection })).toEqual({
      task: "add a type check",
      selection,
    });
  });

  it("leaves empty choices to the daemon's config", () => {
    expect(delegateParams({ task: "Fix it", adapter: "", isolation: "" })).toEqual({ task: "Fix it" });
    expect(delegateParams({ task: "Fix it", adapter: "claude", isolation: "inplace" })).toEqual({
      task: "Fix it",
      adapter: "claude",
      isolation: "inplace",
    });
  });
});

describe("agent picks", () => {
  it("puts the preferred agent first, keeping the rest in order", () => {
    expect(agentPicks("claude").map((p) => p.label)).toEqual(["Claude", "Default", "Codex"]);
    expect(agentPicks("").map((p) => p.adapter)).toEqual(["", "codex", "claude"]);
  });

  it("words the picks for a selection", () => {
    expect(agentPicks("codex", "Delegate this to ").map((p) => p.label)).toEqual([
      "Delegate this to Codex",
      "Delegate this to the default agent",
      "Delegate this to Claude",
    ]);
  });
});
