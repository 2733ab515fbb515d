import type { CoreEnv } from "@tenantry/core";

/** Bindings of the metering worker (Stripe settings come from CoreEnv, read by `coreConfig`). */
export interface Env extends CoreEnv {
  ENVIRONMENT?: string;
}
