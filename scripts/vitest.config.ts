import { defineConfig } from "vitest/config";

// The scripts' pure logic (the deploy checks), in plain Node. Like the scripts, the tests read
// the configs relative to the repository root, where npm and vitest run.
export default defineConfig({
  test: {
    name: "scripts",
    environment: "node",
    include: ["test/**/*.test.mjs"],
  },
});
