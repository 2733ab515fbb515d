import type { D1Migration } from "cloudflare:test";
import type { AdminEnv } from "../server/env";

declare global {
  namespace Cloudflare {
    interface Env extends AdminEnv {
      TEST_CONTROL_MIGRATIONS: D1Migration[];
    }
  }
}
