// Words for the answers commands show in notifications.

import type { CheckResult, DelegateResult, PeekResult } from "../protocol";
import { oneLine } from "./sessions";

export function delegatedText(r: DelegateResult): string {
  return `zwarm: delegated to ${r.adapter} (${r.model}) as ${r.shortId}: ${r.status}`;
}

export function peekText(r: PeekResult): string {
  const latest = r.activity ?? r.latestMessage;
  return `zwarm ${r.shortId} ${r.status}: ${latest ? oneLine(latest, 150) : "no message yet"}`;
}

export function checkText(r: CheckResult): string {
  const cost = typeof r.costUsd === "number" ? ` · $${r.costUsd.toFixed(4)}` : "";
  const head = `zwarm ${r.shortId} ${r.status} · turn ${r.turn} · ${r.messageCount} messages · ${Math.round(r.runtimeS)} s${cost}`;
  const body = r.error ? `error: ${r.error}` : r.response ? r.response : "no response yet";
  return `${head}: ${oneLine(body, 300)}`;
}

/** For answers whose shape this client does not know yet (orchestrate, pilot). */
export function replyText(result: unknown): string {
  if (typeof result === "string") {
    return result;
  }
  if (result && typeof result === "object") {
    for (const key of ["reply", "message", "response", "text", "summary", "status"]) {
      const value = (result as Record<string, unknown>)[key];
      if (typeof value === "string" && value) {
        return value;
      }
    }
  }
  return JSON.stringify(result);
}
