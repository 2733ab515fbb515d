import type { D1Migration } from "cloudflare:test";
import type { Env as WorkerEnv } from "../src/env";

declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv {
      TEST_CONTROL_MIGRATIONS: D1Migration[];
      /** The admin worker's secret, bound here so tests can call core's support-access verbs. */
      SUPPORT_SIGNING_KEY: string;
    }
    interface GlobalProps {
      mainModule: typeof import("../src/index");
    }
  }
}
