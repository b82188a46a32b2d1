// Turning a failed request into a sentence for the person in the editor.

export const METHOD_NOT_FOUND = -32601;
/** zwarm_ls/errors.py SESSION_NOT_FOUND: the session was deleted (or never existed). */
export const SESSION_NOT_FOUND = -32001;

interface RpcErrorLike {
  code?: unknown;
  message?: unknown;
  data?: unknown;
}

function hintOf(data: unknown): string | undefined {
  if (data && typeof data === "object" && "hint" in data) {
    const hint = (data as { hint: unknown }).hint;
    return typeof hint === "string" && hint ? hint : undefined;
  }
  return undefined;
}

export function isMethodNotFound(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as RpcErrorLike).code === METHOD_NOT_FOUND;
}

export function isSessionNotFound(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as RpcErrorLike).code === SESSION_NOT_FOUND;
}

/** "zwarm: <what failed>: <daemon's message> (<daemon's hint>)". */
export function describeError(action: string, method: string, error: unknown): string {
  if (isMethodNotFound(error)) {
    return `zwarm: ${action} is not available: this zwarm-ls daemon does not implement ${method} yet. Update zwarm-ls and restart the server.`;
  }
  const e = (typeof error === "object" && error !== null ? error : { message: String(error) }) as RpcErrorLike;
  const message = typeof e.message === "string" && e.message ? e.message : String(error);
  const hint = hintOf(e.data);
  return `zwarm: ${action} failed: ${message}${hint ? ` (${hint})` : ""}`;
}
