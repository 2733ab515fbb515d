/// <reference path="../../../workers/api/src/text-modules.d.ts" />
import type { D1Migration } from "cloudflare:test";
import type { Env as ApiEnv } from "../../../workers/api/src/env";
import type { AdminEnv } from "../server/env";

// The test project's main module is the API worker (tenant hosts answer through it), with the
// admin worker's bindings beside its own.
declare global {
  namespace Cloudflare {
    interface Env extends Omit<AdminEnv, keyof ApiEnv>, ApiEnv {
      TEST_CONTROL_MIGRATIONS: D1Migration[];
    }
    interface GlobalProps {
      mainModule: typeof import("../../../workers/api/src/index");
    }
  }
}
