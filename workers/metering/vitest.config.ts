import { fileURLToPath } from "node:url";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
// Relative, so the config loader bundles the TypeScript sources instead of asking Node to.
import { stripeOutboundWithCatalog, stripeWithoutSourceMaps } from "../../tests/stripe.js";

export default defineConfig(async () => {
  return {
    plugins: [
      stripeWithoutSourceMaps,
      cloudflareTest({
        wrangler: { configPath: fileURLToPath(new URL("./wrangler.toml", import.meta.url)) },
        miniflare: {
          bindings: {
            ENVIRONMENT: "test",
            TEST_CONTROL_MIGRATIONS: await readD1Migrations(
              fileURLToPath(new URL("../../schema/migrations/control", import.meta.url)),
            ),
            STRIPE_SECRET_KEY: "sk_test_tenantry",
            STRIPE_API_BASE: "https://api.stripe.com",
          },
          // Stripe is the emulator, and 30% of meter event calls fail (half of them after the
          // emulator stored the event): the consumer must still report each exactly once.
          outboundService: await stripeOutboundWithCatalog({ meterEventFailureRate: 0.3, seed: 7 }),
          // Tests send through the real queue too (the meters do this in the API worker).
          queueProducers: { USAGE_QUEUE: "tenantry-usage" },
        },
      }),
    ],
    test: {
      name: "metering",
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
