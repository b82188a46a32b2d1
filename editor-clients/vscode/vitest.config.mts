import { defineConfig } from "vitest/config";

// Unit tests cover the pure modules (src/model, src/protocol); they never load `vscode`.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    environment: "node",
    reporters: ["default"],
  },
});
