import Stripe from "stripe";
import type { CoreConfig } from "./env";

type StripeConfig = Pick<CoreConfig, "STRIPE_SECRET_KEY" | "STRIPE_API_BASE">;

// One client per configuration (an optimisation; the client holds no request state).
const clients = new WeakMap<StripeConfig, Stripe>();

/** The Stripe client, or null when no key is configured. Production and emulator differ only by URL. */
export function stripeClient(cfg: StripeConfig): Stripe | null {
  if (!cfg.STRIPE_SECRET_KEY) return null;
  let client = clients.get(cfg);
  if (!client) {
    const base = new URL(cfg.STRIPE_API_BASE);
    client = new Stripe(cfg.STRIPE_SECRET_KEY, {
      httpClient: Stripe.createFetchHttpClient(),
      protocol: base.protocol === "http:" ? "http" : "https",
      host: base.hostname,
      ...(base.port ? { port: Number(base.port) } : {}),
      maxNetworkRetries: 1,
      timeout: 10_000,
    });
    clients.set(cfg, client);
  }
  return client;
}
