import { describe, expect, it } from "vitest";
import { isRunFinished, orchestrateText, runFinishedText, runStepLine } from "../src/model/orchestrator";

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
});
