// Stripe for the workers' test projects (imported by their vitest configs, in Node).
import Stripe from "stripe";
// Relative, so the config loader bundles the TypeScript sources instead of asking Node to.
import { syncCatalogToStripe } from "../packages/plans/src/index";
import { createStripeEmulator } from "../packages/stripe-emulator/src/index";
import { emulatorOutbound, type OutboundOptions } from "../packages/stripe-emulator/src/outbound";

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
