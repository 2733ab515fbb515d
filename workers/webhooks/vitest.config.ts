import { fileURLToPath } from "node:url";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
// Relative, so the config loader bundles the TypeScript sources instead of asking Node to.
import { stripeOutboundWithCatalog, stripeWithoutSourceMaps } from "../../tests/stripe.js";

/** The webhook signing secret the tests sign with, as the emulator would. */
export const TEST_WEBHOOK_SECRET = "whsec_tenantry_test";
const TEST_POOL_SIZE = 16;

const migrations = (plane: string) =>
  readD1Migrations(fileURLToPath(new URL(`../../schema/migrations/${plane}`, import.meta.url)));

export default defineConfig(async () => {
  const pool = Object.fromEntries(
    Array.from({ length: TEST_POOL_SIZE }, (_, i) => {
      const n = String(i + 1).padStart(4, "0");
      return [`TENANT_DB_${n}`, `test-tenant-${n}`];
    }),
  );
  return {
    plugins: [
      stripeWithoutSourceMaps,
      cloudflareTest({
        wrangler: {
          configPath: fileURLToPath(new URL("./wrangler.toml", import.meta.url)),
        },
        miniflare: {
          bindings: {
            ENVIRONMENT: "test",
            // Short, so tests that go through the real queue stay quick.
            BILLING_COALESCE_SECONDS: "1",
            TEST_CONTROL_MIGRATIONS: await migrations("control"),
            TEST_TENANT_MIGRATIONS: await migrations("tenant"),
            // Set explicitly: a developer's .dev.vars must not leak into tests.
            STRIPE_SECRET_KEY: "sk_test_tenantry",
            STRIPE_API_BASE: "https://api.stripe.com",
            STRIPE_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
          },
          // Stripe is the project's emulator, in this Node process.
          outboundService: await stripeOutboundWithCatalog(),
          d1Databases: { CONTROL_DB: "test-control", ...pool },
          // The meters live in the API worker (tested there). Here a stand-in of the same name
          // and class counts the refreshes the consumer asks for.
          workers: [
            {
              name: "tenantry-api",
              modules: true,
              compatibilityDate: "2026-11-01",
              script: `import { DurableObject } from "cloudflare:workers";
export class TenantMeter extends DurableObject {
  async refresh() { await this.ctx.storage.put("refreshes", ((await this.ctx.storage.get("refreshes")) ?? 0) + 1); }
  async refreshes() { return (await this.ctx.storage.get("refreshes")) ?? 0; }
}
export default { fetch: () => new Response("stand-in") };`,
              durableObjects: { TENANT_METER: "TenantMeter" },
            },
          ],
          // As wrangler.toml, with one retry instead of five, so the dead-letter path runs in
          // seconds (the consumer's own backoff still applies).
          queueConsumers: {
            "tenantry-billing": {
              maxBatchSize: 100,
              maxBatchTimeout: 1,
              maxRetries: 1,
              deadLetterQueue: "tenantry-billing-dlq",
            },
            "tenantry-billing-dlq": { maxBatchSize: 100, maxBatchTimeout: 1 },
          },
        },
      }),
    ],
    test: {
      name: "webhooks",
      include: ["test/**/*.test.ts"],
      setupFiles: [
        fileURLToPath(new URL("../../tests/control-migrations.setup.ts", import.meta.url)),
      ],
      testTimeout: 120_000,
      // Injected failures log by design; show logs of failing tests only.
      silent: "passed-only",
    },
  };
});
