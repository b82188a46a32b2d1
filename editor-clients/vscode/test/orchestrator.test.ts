import { describe, expect, it } from "vitest";
import {
  isRunFinished,
  orchestrateText,
  runFinishedText,
  runPick,
  runShownLines,
  runStepLine,
} from "../src/model/orchestrator";
import type { RunSummary } from "../src/protocol";

describe("orchestrator texts", () => {
  it("writes one line per step, naming the run", () => {
    const step = { index: 4, turn: 1, kind: "command", ts: "t", summary: "$ pytest\n  -q" };
    expect(runStepLine({ kind: "orchestrator", runId: "r1" }, step)).toBe("[orchestrator r1] #4 command: $ pytest -q");
  });

  it("words the start and the end of a run", () => {
    expect(orchestrateText({ runId: "r1", status: "running", stepCount: 0, sessions: [] })).toBe(
      "zwarm orchestrator r1 running",
    );
    expect(orchestrateText({ runId: "r1", status: "exited", stepCount: 3, sessions: [], message: "all\ndone" })).toBe(
      "zwarm orchestrator r1 finished: all done",
    );
    expect(runFinishedText({ kind: "orchestrator", runId: "r1", status: "budget_exhausted" })).toBe(
      "zwarm orchestrator r1 stopped: budget used up",
    );
    expect(isRunFinished("running")).toBe(false);
    expect(isRunFinished("failed")).toBe(true);
  });

  it("lists a run as a quick pick row, with the resume command when it can be resumed", () => {
    const run: RunSummary = {
      runId: "20261204-0501-abc123",
      kind: "orchestrator",
      status: "interrupted",
      task: "add a\ncache",
      stepCount: 3,
      maxSteps: 50,
      sessions: ["s1"],
      createdAt: "t",
      updatedAt: "t",
      resumed: 0,
      resumable: true,
    };
    expect(runPick(run)).toEqual({
      label: "$(debug-disconnect) add a cache",
      description: "interrupted · 3/50 steps · 1 session",
      detail: "20261204-0501-abc123 · resume: zwarm-ls orchestrate --resume 20261204-0501-abc123",
      runId: "20261204-0501-abc123",
    });
    const done = runPick({ ...run, status: "exited", resumable: false, sessions: [], message: "all\ndone" });
    expect([done.label, done.description, done.detail]).toEqual([
      "$(pass) add a cache",
      "finished · 3/50 steps · 0 sessions",
      "20261204-0501-abc123 · all done",
    ]);
    const step = { index: 0, turn: 1, kind: "tool_call" as const, ts: "t", summary: "exit()" };
    expect(
      runShownLines({ kind: "orchestrator", runId: "r1", status: "exited", task: "t", steps: [step], nextIndex: 1 }),
    ).toEqual(["== orchestrator run r1: t", "[orchestrator r1] #0 tool_call: exit()", "== orchestrator run r1 (finished, 1 steps)"]);
  });
});
