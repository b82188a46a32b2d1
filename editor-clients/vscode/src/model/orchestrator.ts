// Words for the orchestrator and the pilot: the lines of their output channel and the
// notifications when a run ends. Pure, so the unit tests cover it.

import type { OrchestrateResult, OrchestratorUpdated, RunStatus, Step } from "../protocol";
import { oneLine } from "./sessions";

export function isRunFinished(status: RunStatus): boolean {
  return status !== "running";
}

const STATUS_WORDS: Record<RunStatus, string> = {
  running: "running",
  exited: "finished",
  budget_exhausted: "stopped: budget used up",
  stopped: "stopped",
  failed: "failed",
};

export function runStatusText(status: RunStatus): string {
  return STATUS_WORDS[status] ?? status;
}

/** One output line per step: `[orchestrator 1a2b3c] #4 command: $ pytest -q`. */
export function runStepLine(u: Pick<OrchestratorUpdated, "kind" | "runId">, step: Step): string {
  return `[${u.kind} ${u.runId}] #${step.index} ${step.kind}: ${oneLine(step.summary, 200)}`;
}

export function orchestrateText(r: OrchestrateResult): string {
  const message = r.message ? `: ${oneLine(r.message, 200)}` : "";
  return `zwarm orchestrator ${r.runId} ${runStatusText(r.status)}${message}`;
}

export function runFinishedText(u: Pick<OrchestratorUpdated, "kind" | "runId" | "status">): string {
  return `zwarm ${u.kind} ${u.runId} ${runStatusText(u.status)}`;
}
