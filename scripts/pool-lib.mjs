// The tenant database pool: one manifest (schema/tenant-pool.json) from which the wrangler
// bindings are generated. Never edit the generated block in wrangler.toml by hand.
import { readFileSync, writeFileSync } from "node:fs";

export const MANIFEST = "schema/tenant-pool.json";
export const WRANGLER = "wrangler.toml";
/** Every worker config that binds the tenant pool (each worker that reaches tenant databases). */
export const POOL_CONFIGS = [
  WRANGLER,
  "workers/webhooks/wrangler.toml",
  "apps/admin/wrangler.toml",
];
const BEGIN =
  "# BEGIN tenant database pool (generated from schema/tenant-pool.json by `npm run pool:sync`; do not edit)";
const END = "# END tenant database pool";

export function bindingName(n) {
  return `TENANT_DB_${String(n).padStart(4, "0")}`;
}

const PLACEHOLDER_PREFIX = "00000000-0000-4000-8000-";

/** A pool entry. Local ids are placeholders; `pool:create` and `pool:grow --create` record real ones. */
export function poolEntry(n, databaseId) {
  return {
    binding: bindingName(n),
    database_name: `tenantry-tenant-${String(n).padStart(4, "0")}`,
    database_id: databaseId ?? `${PLACEHOLDER_PREFIX}${String(n).padStart(12, "0")}`,
  };
}

export function isPlaceholderId(id) {
  return id.startsWith(PLACEHOLDER_PREFIX);
}

export function readManifest() {
  return JSON.parse(readFileSync(MANIFEST, "utf8"));
}

export function writeManifest(manifest) {
  writeFileSync(MANIFEST, `${JSON.stringify(manifest, null, 2)}\n`);
}

export function renderPoolBlock(databases) {
  const entries = databases.map(
    (d) =>
      `[[d1_databases]]\nbinding = "${d.binding}"\ndatabase_name = "${d.database_name}"\ndatabase_id = "${d.database_id}"\n`,
  );
  return `${BEGIN}\n${entries.join("\n")}${END}`;
}

/** Returns wrangler.toml text with the pool block replaced by one rendered from `databases`. */
export function withPoolBlock(toml, databases) {
  const start = toml.indexOf(BEGIN);
  const end = toml.indexOf(END);
  if (start === -1 || end === -1)
    throw new Error("a wrangler config has no tenant pool block markers");
  return toml.slice(0, start) + renderPoolBlock(databases) + toml.slice(end + END.length);
}
