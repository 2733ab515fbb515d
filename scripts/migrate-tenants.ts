// npm run migrate:tenants: applies pending tenant migrations to every provisioned tenant database
// of the local platform (the state `npm run dev` uses), and reports per-tenant results.
// Safe to re-run at any time: finished tenants are skipped, failed ones are retried.
import { getPlatformProxy } from "wrangler";
import type { Env } from "../workers/api/src/env";
import { migrateTenantDatabases } from "../workers/api/src/services/fleet-migrations";

const persistTo = process.argv.find((a) => a.startsWith("--persist-to="))?.split("=")[1];
const proxy = await getPlatformProxy<Env>({
  configPath: "wrangler.toml",
  ...(persistTo ? { persist: { path: persistTo } } : {}),
});
let failed = 0;
try {
  const results = await migrateTenantDatabases(proxy.env, {
    onResult: (r) => {
      if (r.error) failed++;
      const what = r.error
        ? `FAILED: ${r.error}`
        : r.applied.length
          ? `applied ${r.applied.join(", ")}`
          : "up to date";
      console.log(`${r.slug.padEnd(40)} v${r.from} → v${r.to}  ${what}`);
    },
  });
  console.log(`${results.length} tenant(s) behind were visited; ${failed} failed.`);
} finally {
  await proxy.dispose();
}
process.exit(failed > 0 ? 1 : 0);
