import { describe, expect, it } from "vitest";
import { serverCommand, expandHome } from "../src/model/serverCommand";
import { daemonOptions, needsRestart, parseSettings, type ZwarmSettings } from "../src/model/settings";

const empty: ZwarmSettings = {
  serverPath: "", pythonPath: "", defaultAdapter: "", codexModel: "", claudeModel: "",
  isolation: "", trusted: false,
};

describe("parseSettings", () => {
  it("trims strings and drops values of the wrong type", () => {
    const values: Record<string, unknown> = { serverPath: "  /v/bin/zwarm-ls ", pythonPath: 3, defaultAdapter: "gpt" };
    expect(parseSettings((k) => values[k])).toEqual({ ...empty, serverPath: "/v/bin/zwarm-ls" });
  });

  it("keeps a known adapter", () => {
    expect(parseSettings((k) => (k === "defaultAdapter" ? "claude" : undefined)).defaultAdapter).toBe("claude");
  });
});

describe("daemonOptions", () => {
  it("says only whether the folder is trusted when nothing is set", () => {
    expect(daemonOptions(empty)).toEqual({ trustedFolder: false });
    expect(daemonOptions({ ...empty, trusted: true })).toEqual({ trustedFolder: true });
  });

  it("maps to the daemon's config sections with snake_case keys", () => {
    const s = {
      ...empty, defaultAdapter: "claude" as const, codexModel: "o4", claudeModel: "opus",
      isolation: "worktree" as const,
    };
    expect(daemonOptions(s)).toEqual({
      trustedFolder: false,
      daemon: { default_adapter: "claude" },
      codex: { model: "o4" },
      claude: { model: "opus" },
      sessions: { isolation: "worktree" },
    });
  });
});

describe("needsRestart", () => {
  it("restarts only when the way to start the daemon changes", () => {
    expect(needsRestart(empty, { ...empty, codexModel: "x" })).toBe(false);
    expect(needsRestart(empty, { ...empty, serverPath: "/x" })).toBe(true);
    expect(needsRestart(empty, { ...empty, pythonPath: "/py" })).toBe(true);
  });
});

describe("serverCommand", () => {
  it("prefers zwarm.serverPath", () => {
    expect(serverCommand({ ...empty, serverPath: "~/v/zwarm-ls", pythonPath: "/py" }, "/home/u")).toEqual({
      command: "/home/u/v/zwarm-ls",
      args: ["serve"],
      source: "zwarm.serverPath",
    });
  });

  it("runs the CLI module with zwarm.pythonPath", () => {
    expect(serverCommand({ ...empty, pythonPath: "/py" }, "/h")).toEqual({
      command: "/py",
      args: ["-m", "zwarm_ls.cli", "serve"],
      source: "zwarm.pythonPath",
    });
  });

  it("falls back to zwarm-ls on PATH", () => {
    expect(serverCommand(empty, "/h")).toMatchObject({ command: "zwarm-ls", source: "PATH" });
  });

  it("expands only a leading home marker", () => {
    expect(expandHome("${userHome}/a", "/h")).toBe("/h/a");
    expect(expandHome("/a/~/b", "/h")).toBe("/a/~/b");
    expect(expandHome("~", "/h")).toBe("/h");
  });
});
