// What a delegation sends. The client never writes task text for code: for a selection
// it sends the range and the daemon writes the task (the same text Neovim gets), with the
// user's own words, if any, as the instruction.

import type { Anchor, DelegateParams } from "../protocol";
import type { AdapterChoice, IsolationChoice } from "./settings";

export interface AgentPick {
  label: string;
  description: string;
  adapter: AdapterChoice;
}

const AGENTS: { name: string; description: string; adapter: AdapterChoice }[] = [
  { name: "the default agent", description: "the daemon's default", adapter: "" },
  { name: "Codex", description: "Codex CLI", adapter: "codex" },
  { name: "Claude", description: "Claude Code CLI", adapter: "claude" },
];

/**
 * The agents to choose from, the preferred one (`zwarm.defaultAdapter`) first; labels
 * start with `prefix` ("Delegate this to " for a selection).
 */
export function agentPicks(preferred: AdapterChoice, prefix = ""): AgentPick[] {
  const ordered = [...AGENTS.filter((a) => a.adapter === preferred), ...AGENTS.filter((a) => a.adapter !== preferred)];
  return ordered.map((a) => ({
    label: prefix ? `${prefix}${a.name}` : a.name.replace(/^the default agent$/, "Default"),
    description: a.description,
    adapter: a.adapter,
  }));
}

export interface DelegateInput {
  /** The user's words: the whole task, or with a selection the instruction for it. */
  task?: string;
  adapter: AdapterChoice;
  isolation: IsolationChoice;
  selection?: Anchor;
}

/** `zwarm/delegate` params; empty choices are left out so the daemon's config decides. */
export function delegateParams(input: DelegateInput): DelegateParams {
  const params: DelegateParams = {};
  const task = input.task?.trim();
  if (task) {
    params.task = task;
  }
  if (input.selection) {
    params.selection = input.selection;
  }
  if (input.adapter) {
    params.adapter = input.adapter;
  }
  if (input.isolation) {
    params.isolation = input.isolation;
  }
  return params;
}
