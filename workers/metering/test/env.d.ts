import type { UsageMessage } from "@tenantry/core";

declare global {
  namespace Cloudflare {
    // Merged with the other workers' test declarations (one TypeScript project).
    interface Env {
      USAGE_QUEUE: Queue<UsageMessage>;
    }
  }
}
