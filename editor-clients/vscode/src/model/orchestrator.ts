// Words for the orchestrator and the pilot: the lines of their output channel and the
// notifications when a run ends. Pure, so the unit tests cover it.

import type {
  OrchestrateResult,
  OrchestratorUpdated,
  RunStatus,
  RunSummary,
  RunTrajectoryResult,
  Step,
} from "../protocol";
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

const RUN_ICONS: Record<RunSummary["status"], string> = {
  running: "$(sync~spin)",
  exited: "$(pass)",
  budget_exhausted: "$(watch)",
  stopped: "$(debug-pause)",
  failed: "$(error)",
  interrupted: "$(debug-disconnect)",
};

export interface RunPick {
  label: string;
  description: string;
  detail: string;
  runId: string;
}

/** The quick pick row of one run of `zwarm/listRuns`. */
export function runPick(r: RunSummary): RunPick {
  const status = r.status === "interrupted" ? "interrupted" : runStatusText(r.status);
  const sessions = r.sessions.length === 1 ? "1 session" : `${r.sessions.length} sessions`;
  const resume = r.resumable ? ` · resume: zwarm-ls orchestrate --resume ${r.runId}` : "";
  return {
    label: `${RUN_ICONS[r.status] ?? ""} ${oneLine(r.task, 80)}`.trim(),
    description: `${status} · ${r.stepCount}/${r.maxSteps} steps · ${sessions}`,
    detail: `${r.runId}${r.message ? ` · ${oneLine(r.message, 120)}` : ""}${resume}`,
    runId: r.runId,
  };
}

/** A run shown from the runs list: its task, its steps, and where it stands (last, so a
 * channel that keeps to its end shows it). */
export function runShownLines(r: RunTrajectoryResult): string[] {
  return [
    `== ${r.kind} run ${r.runId}: ${oneLine(r.task, 200)}`,
    ...r.steps.map((step) => runStepLine(r, step)),
    `== ${r.kind} run ${r.runId} (${runStatusText(r.status)}, ${r.steps.length} steps)`,
  ];
}
