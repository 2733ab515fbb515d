import type { D1Migration } from "cloudflare:test";
import type { Env as WebhooksEnv } from "../src/env";

declare global {
  namespace Cloudflare {
    // Merged with the API worker's test declarations (one TypeScript project).
    interface Env extends WebhooksEnv {
      TEST_TENANT_MIGRATIONS: D1Migration[];
    }
  }
}
