// Applies the control-plane migrations (passed in by each worker's vitest config) before a test file runs.
import { applyD1Migrations, type D1Migration } from "cloudflare:test";
import { env } from "cloudflare:workers";

const testEnv = env as unknown as {
  CONTROL_DB: D1Database;
  TEST_CONTROL_MIGRATIONS: D1Migration[];
};
await applyD1Migrations(testEnv.CONTROL_DB, testEnv.TEST_CONTROL_MIGRATIONS);
