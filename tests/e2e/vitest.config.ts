import { defineConfig } from "vitest/config";

// Plain Node: these tests start the real platform (wrangler dev with the API, webhooks and
// metering workers, and the Stripe emulator) and talk to it over loopback.
export default defineConfig({
  test: {
    name: "e2e",
    environment: "node",
    include: ["**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
