import { defineConfig } from "vitest/config";

// Plain Node: everything here is pure code, and Stripe is the in-process emulator.
export default defineConfig({
  test: {
    name: "plans",
    environment: "node",
    include: ["test/**/*.test.ts"],
    testTimeout: 10_000,
  },
});
