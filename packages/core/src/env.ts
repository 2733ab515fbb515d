import { z } from "zod";
import type { MeterNamespace } from "./meter-contract";

/** Bindings every platform worker that touches tenants has. Pool bindings are generated. */
export interface CoreEnv {
  CONTROL_DB: D1Database;
  STRIPE_SECRET_KEY?: string;
  STRIPE_API_BASE?: string;
  BILLING_GRACE_DAYS?: string;
  /**
   * The per-tenant meters (class TenantMeter of the API worker), told when limits change (see
   * `refreshMeter`); the API worker itself requires the binding.
   */
  TENANT_METER?: MeterNamespace;
  [binding: `TENANT_DB_${string}`]: D1Database;
}

export const CoreConfigSchema = z.object({
  /** Stripe secret key; without one, tenants stay on free and no customer is created. */
  STRIPE_SECRET_KEY: z.string().startsWith("sk_").optional(),
  /** Where the Stripe API is: Stripe itself by default, the emulator in development. */
  STRIPE_API_BASE: z.url().default("https://api.stripe.com"),
  /** How long a past_due tenant keeps its plan before it becomes read-only. */
  BILLING_GRACE_DAYS: z.coerce.number().min(0).max(90).default(7),
});
export type CoreConfig = z.infer<typeof CoreConfigSchema>;

/**
 * A worker's configuration reader: parses the env once per env object with `schema` and throws a
 * readable error on the first request when something is missing or malformed.
 */
export function configReader<S extends z.ZodType>(schema: S) {
  const parsed = new WeakMap<object, z.infer<S>>();
  return (env: object): z.infer<S> => {
    let cfg = parsed.get(env);
    if (!cfg) {
      const result = schema.safeParse(env);
      if (!result.success) {
        throw new Error(`invalid worker configuration: ${z.prettifyError(result.error)}`);
      }
      cfg = result.data as z.infer<S>;
      parsed.set(env, cfg);
    }
    return cfg;
  };
}

/** The shared part of a worker's configuration. */
export const coreConfig: (env: CoreEnv) => CoreConfig = configReader(CoreConfigSchema);

export function gracePeriodMs(cfg: Pick<CoreConfig, "BILLING_GRACE_DAYS">): number {
  return cfg.BILLING_GRACE_DAYS * 86_400_000;
}
