import { describe, expect, it } from "vitest";
import { byStatus, isDecoratable } from "../src/model/decorations";
import { describeError, isMethodNotFound } from "../src/model/errors";
import { checkText, delegatedText, peekText, replyText } from "../src/model/results";
import { sessionIdFromQuery, trajectoryUriParts } from "../src/model/trajectoryUri";
import type { Decoration } from "../src/protocol";

describe("describeError", () => {
  it("explains a method the daemon does not have yet", () => {
    const error = { code: -32601, message: "Method Not Found: zwarm/orchestrate" };
    expect(isMethodNotFound(error)).toBe(true);
    expect(describeError("Orchestrate", "zwarm/orchestrate", error)).toBe(
      "zwarm: Orchestrate is not available: this zwarm-ls daemon does not implement zwarm/orchestrate yet. Update zwarm-ls and restart the server.",
    );
  });

  it("passes on the daemon's message and hint", () => {
    const error = { code: -32602, message: "unknown session 'zz'", data: { hint: "see zwarm: Show Sessions" } };
    expect(describeError("peek", "zwarm/peekSession", error)).toBe(
      "zwarm: peek failed: unknown session 'zz' (see zwarm: Show Sessions)",
    );
    expect(describeError("peek", "m", new Error("boom"))).toBe("zwarm: peek failed: boom");
    expect(describeError("peek", "m", "text")).toBe("zwarm: peek failed: text");
  });
});

describe("trajectory URIs", () => {
  it("round-trip the full session id and end in .md", () => {
    const parts = trajectoryUriParts("zwarm", "0123456789-abc");
    expect(parts).toEqual({ scheme: "zwarm", path: "/trajectory-01234567.md", query: "session=0123456789-abc" });
    expect(sessionIdFromQuery(parts.query)).toBe("0123456789-abc");
    expect(sessionIdFromQuery("other=1")).toBeUndefined();
  });
});

describe("decorations", () => {
  it("splits by status for one decoration type each", () => {
    const d = (status: Decoration["status"]): Decoration => ({
      range: { start: { line: 0, character: 0 }, end: { line: 1, character: 0 } },
      sessionId: "s",
      shortId: "s",
      status,
      stepIndex: 1,
      label: "l",
      hover: "h",
    });
    const grouped = byStatus([d("running"), d("completed"), d("running")]);
    expect(grouped.get("running")).toHaveLength(2);
    expect(grouped.get("completed")).toHaveLength(1);
    expect(grouped.get("failed")).toEqual([]);
    expect(isDecoratable("file")).toBe(true);
    expect(isDecoratable("zwarm")).toBe(false);
  });
});

describe("result texts", () => {
  it("words delegate, peek and check answers", () => {
    expect(
      delegatedText({
        sessionId: "x", shortId: "abcd1234", status: "running", adapter: "codex", model: "m",
        workingDir: "/", isolation: "inplace", executor: "local", overlaps: [],
      }),
    ).toBe("zwarm: delegated to codex (m) as abcd1234: running");
    expect(peekText({ sessionId: "x", shortId: "abcd1234", status: "running", isRunning: true })).toBe(
      "zwarm abcd1234 running: no message yet",
    );
    const check = checkText({
      sessionId: "x",
      shortId: "abcd1234",
      status: "completed",
      isRunning: false,
      task: "t",
      adapter: "claude",
      model: "m",
      response: "all done",
      turn: 2,
      messageCount: 3,
      costUsd: 0.0123,
      runtimeS: 4.4,
    });
    expect(check).toBe("zwarm abcd1234 completed · turn 2 · 3 messages · 4 s · $0.0123: all done");
  });

  it("finds the reply in answers of unknown shape", () => {
    expect(replyText("hi")).toBe("hi");
    expect(replyText({ reply: "ok", other: 1 })).toBe("ok");
    expect(replyText({ n: 1 })).toBe('{"n":1}');
  });
});
