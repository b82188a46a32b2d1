// Splits the daemon's `zwarm/decorations` answer into one list per status, because an
// editor decoration type carries one look and the look follows the session's status.

import type { Decoration, Status } from "../protocol";

export const DECORATED_STATUSES: Status[] = ["pending", "running", "completed", "failed", "killed"];

export function byStatus(decorations: Decoration[]): Map<Status, Decoration[]> {
  const out = new Map<Status, Decoration[]>(DECORATED_STATUSES.map((s) => [s, []]));
  for (const d of decorations) {
    out.get(d.status)?.push(d);
  }
  return out;
}

/** Only documents on disk have changed lines an agent could have written. */
export function isDecoratable(scheme: string): boolean {
  return scheme === "file";
}
