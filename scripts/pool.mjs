// npm run pool:sync          regenerate the wrangler bindings (every config in POOL_CONFIGS)
// npm run pool:check         fail when wrangler.toml and the manifest disagree (part of verify)
// npm run pool:grow -- N     add N databases to the manifest and regenerate the bindings
//                            (--create also runs `wrangler d1 create` for each and records its id)
// npm run pool:create        before a first deploy: `wrangler d1 create` every manifest database
//                            whose id is still a local placeholder, recording each real id
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import {
  isPlaceholderId,
  POOL_CONFIGS,
  poolEntry,
  readManifest,
  withPoolBlock,
  writeManifest,
} from "./pool-lib.mjs";

const [command, arg, flag] = process.argv.slice(2);

/** Creates the D1 database of a pool entry in the Cloudflare account; returns its id. */
function createDatabase(entry) {
  const out = execFileSync("wrangler", ["d1", "create", entry.database_name], { encoding: "utf8" });
  const id = out.match(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/)?.[0];
  if (!id) throw new Error(`could not read the database id from wrangler output:\n${out}`);
  return id;
}

/** Writes the generated bindings into every config that binds the pool. */
function writeConfigs() {
  for (const config of POOL_CONFIGS) {
    writeFileSync(config, withPoolBlock(readFileSync(config, "utf8"), manifest.databases));
  }
}

/** Records the manifest and the generated bindings (after every database, so nothing is lost). */
function save() {
  writeManifest(manifest);
  writeConfigs();
}
const manifest = readManifest();

if (command === "sync") {
  writeConfigs();
  console.log(
    `${POOL_CONFIGS.join(", ")}: ${manifest.databases.length} tenant database bindings each`,
  );
} else if (command === "check") {
  const stale = POOL_CONFIGS.filter((config) => {
    const toml = readFileSync(config, "utf8");
    return withPoolBlock(toml, manifest.databases) !== toml;
  });
  if (stale.length > 0) {
    console.error(
      `pool:check: ${stale.join(", ")} does not match schema/tenant-pool.json; run npm run pool:sync`,
    );
    process.exit(1);
  }
  console.log(
    `pool:check: ${manifest.databases.length} bindings match the manifest in ${POOL_CONFIGS.length} configs`,
  );
} else if (command === "grow") {
  const count = Number(arg);
  if (!Number.isInteger(count) || count < 1) {
    console.error("usage: npm run pool:grow -- N [--create]");
    process.exit(2);
  }
  const start = manifest.databases.length + 1;
  for (let n = start; n < start + count; n++) {
    manifest.databases.push(
      poolEntry(n, flag === "--create" ? createDatabase(poolEntry(n)) : undefined),
    );
    save();
  }
  console.log(`pool: ${manifest.databases.length} databases (added ${count}); deploy to bind them`);
} else if (command === "create") {
  let created = 0;
  for (const entry of manifest.databases) {
    if (!isPlaceholderId(entry.database_id)) continue;
    entry.database_id = createDatabase(entry);
    save();
    created++;
  }
  console.log(`pool: created ${created} databases; ${manifest.databases.length} in the manifest`);
} else {
  console.error("usage: node scripts/pool.mjs sync | check | grow N [--create] | create");
  process.exit(2);
}
