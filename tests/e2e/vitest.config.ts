import { defineConfig } from "vitest/config";

// Plain Node: these tests start the real platform once (global-setup.ts: wrangler dev with the
// router, API, webhooks, metering and admin workers, and the Stripe emulator) and talk to it
// over loopback; browser tests drive Debian's Chromium through playwright-core.
export default defineConfig({
  test: {
    name: "e2e",
    environment: "node",
    include: ["**/*.test.ts"],
    globalSetup: ["./global-setup.ts"],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // A page navigation on a busy 2-core machine can take over a second: `expect.poll` waits
    // for the page's state (never for a time), so give it room beyond vitest's 1 s default.
    expect: { poll: { timeout: 15_000 } },
  },
});
