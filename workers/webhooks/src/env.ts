import { type BillingMessage, CoreConfigSchema, type CoreEnv, configReader } from "@tenantry/core";
import { z } from "zod";

export { type BillingMessage, BillingMessageSchema } from "@tenantry/core";

/** Bindings of the webhooks worker, as workers/webhooks/wrangler.toml declares them. */
export interface Env extends CoreEnv {
  BILLING_QUEUE: Queue<BillingMessage>;
  STRIPE_WEBHOOK_SECRET: string;
  ENVIRONMENT?: string;
  WEBHOOK_TOLERANCE_SECONDS?: string;
  BACKFILL_WINDOW_HOURS?: string;
  BILLING_COALESCE_SECONDS?: string;
}

export const ConfigSchema = CoreConfigSchema.extend({
  /** `development` and `test` enable GET /_dev/ledger. */
  ENVIRONMENT: z.enum(["development", "test", "production"]).default("production"),
  /** The endpoint's signing secret (`whsec_…`), from the Stripe dashboard or the emulator. */
  STRIPE_WEBHOOK_SECRET: z
    .string()
    .startsWith("whsec_", "STRIPE_WEBHOOK_SECRET is not set: see .dev.vars.example"),
  /** Signatures older than this, or this far in the future, are refused (Stripe's default: 300). */
  WEBHOOK_TOLERANCE_SECONDS: z.coerce.number().int().min(1).max(3600).default(300),
  /**
   * Each event waits this long in the queue before the consumer sees it, so one re-fetch from
   * Stripe covers every event of a customer that arrives meanwhile (a burst of subscription and
   * invoice events is one re-fetch, not ten). 0 disables the wait. The checkout redirect
   * re-syncs at once regardless, so users never wait for it.
   */
  BILLING_COALESCE_SECONDS: z.coerce.number().int().min(0).max(60).default(5),
  /** How far back the first backfill reads Stripe's events list (Stripe keeps 30 days). */
  BACKFILL_WINDOW_HOURS: z.coerce.number().min(1).max(720).default(72),
});
export type Config = z.infer<typeof ConfigSchema>;

/** Parsed once per env object; a bad config fails loudly on the first request. */
export const config: (env: Env) => Config = configReader(ConfigSchema);
