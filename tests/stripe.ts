// Stripe for the workers' test projects (imported by their vitest configs, in Node).
import { readFile } from "node:fs/promises";
import Stripe from "stripe";
import type { Plugin } from "vite";
// Relative, so the config loader bundles the TypeScript sources instead of asking Node to.
import { syncCatalogToStripe } from "../packages/plans/src/index.js";
import { createStripeEmulator } from "../packages/stripe-emulator/src/index.js";
import {
  emulatorOutbound,
  type OutboundOptions,
} from "../packages/stripe-emulator/src/outbound.js";

/**
 * A Vite plugin for the workers' test projects: loads the stripe SDK's modules without their
 * source-map comments. The published maps name TypeScript sources the package does not ship, so
 * Vite would warn once per module (~200) and project. (Pre-bundling stripe would also avoid it,
 * but an active dependency optimizer adds `?v=` to every node_modules import, which stops the
 * pool from loading wrangler's `Text` rule modules.)
 */
export const stripeWithoutSourceMaps: Plugin = {
  name: "tenantry:stripe-without-source-maps",
  enforce: "pre",
  async load(id) {
    const file = id.split("?")[0] ?? id;
    if (!file.includes("/node_modules/stripe/")) return null;
    const code = await readFile(file, "utf8");
    return { code: code.replace(/^\/\/# sourceMappingURL=.*$/m, ""), map: null };
  },
};

/**
 * One emulator for a test project, with the plan catalog (products, prices, meters) in place
 * before any test file runs; returns the `outboundService` that answers the workers' requests to
 * api.stripe.com with it.
 */
export async function stripeOutboundWithCatalog(options: OutboundOptions = {}) {
  const emulator = createStripeEmulator();
  await syncCatalogToStripe(
    new Stripe("sk_test_tenantry", { httpClient: Stripe.createFetchHttpClient(emulator.fetch) }),
  );
  return emulatorOutbound(emulator, options);
}
