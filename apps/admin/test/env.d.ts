import type { D1Migration } from "cloudflare:test";
import type { Env as ApiEnv } from "../../../workers/api/src/env";
import type { AdminEnv } from "../server/env";

// The API worker is the tests' main module (tenants are created through it), so the test
// bindings are both workers' (tests/api-worker-project.ts).
declare global {
  namespace Cloudflare {
    interface Env extends ApiEnv, AdminEnv {
      TEST_CONTROL_MIGRATIONS: D1Migration[];
    }
    interface GlobalProps {
      mainModule: typeof import("../../../workers/api/src/index");
    }
  }
}
