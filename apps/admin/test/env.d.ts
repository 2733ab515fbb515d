/// <reference path="../../../workers/api/src/text-modules.d.ts" />
import type { D1Migration } from "cloudflare:test";
import type { Env as ApiEnv } from "../../../workers/api/src/env";
import type { AdminEnv } from "../server/env";

// The harness's main module is the API worker (its bindings and exports); the admin worker's
// are added beside them, so admin tests can use the API's test helpers too.
declare global {
  namespace Cloudflare {
    interface Env extends ApiEnv, Omit<AdminEnv, keyof ApiEnv> {
      TEST_CONTROL_MIGRATIONS: D1Migration[];
      SUPPORT_SIGNING_KEY: string;
    }
    interface GlobalProps {
      mainModule: typeof import("../../../workers/api/src/index");
    }
    interface GlobalProps {
      mainModule: typeof import("../../../workers/api/src/index");
    }
    interface GlobalProps {
      mainModule: typeof import("../../../workers/api/src/index");
    }
  }
}
