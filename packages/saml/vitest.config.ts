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
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
  },
});
