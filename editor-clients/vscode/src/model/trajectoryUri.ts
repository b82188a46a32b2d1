// Addresses of trajectory documents: `zwarm:/trajectory-<shortId>.md?session=<id>`.
// The `.md` path gives the document the markdown language (and so the preview); the
// full id rides in the query so the provider never has to guess from a prefix.

export interface UriParts {
  scheme: string;
  path: string;
  query: string;
}

export function trajectoryUriParts(scheme: string, sessionId: string): UriParts {
  const short = sessionId.slice(0, 8);
  return { scheme, path: `/trajectory-${short}.md`, query: `session=${encodeURIComponent(sessionId)}` };
}

/** The session id in a trajectory document's query, or undefined for a foreign URI. */
export function sessionIdFromQuery(query: string): string | undefined {
  for (const pair of query.split("&")) {
    const [key, value] = pair.split("=", 2);
    if (key === "session" && value) {
      return decodeURIComponent(value);
    }
  }
  return undefined;
}
