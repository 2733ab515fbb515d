// Stripe for the workers' test projects (imported by their vitest configs, in Node).
import Stripe from "stripe";
// Relative, so the config loader bundles the TypeScript sources instead of asking Node to.
import { syncCatalogToStripe } from "../packages/plans/src/index.js";
import { createStripeEmulator } from "../packages/stripe-emulator/src/index.js";
import {
  emulatorOutbound,
  type OutboundOptions,
} from "../packages/stripe-emulator/src/outbound.js";

/**
 * `test.deps` for the workers' test projects: the stripe SDK is pre-bundled once. Loaded file by
 * file, each of its ~200 modules carries a source map naming TypeScript sources the package does
 * not ship, and Vite warns once per module and project.
 */
export const prebundledStripe = { optimizer: { ssr: { enabled: true, include: ["stripe"] } } };

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
