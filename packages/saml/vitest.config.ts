import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Inside workerd, like the workers that will call it: proves no Node-only API is needed.
export default defineConfig({
  plugins: [
    cloudflareTest({
      miniflare: { compatibilityDate: "2026-11-01" },
    }),
  ],
  test: {
    name: "saml",
    // bench/: the CPU measurement, run by `npm run bench:saml` only (it asserts nothing).
    include: ["test/**/*.test.ts", ...(process.env.SAML_CPU_BENCH ? ["bench/**/*.test.ts"] : [])],
    testTimeout: 60_000,
  },
});
