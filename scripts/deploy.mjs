// npm run deploy              check the account, apply the control migrations, deploy every worker
// npm run deploy -- --dry-run  bundle every worker config (and the development ones) with
//                              `wrangler deploy --dry-run`; no account needed (part of verify)
//
// Before deploying anything, asks wrangler what the account has (secrets per worker, queues, D1
// databases) and stops with one error naming each missing item and the command that fixes it.
import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import { unstable_readConfig } from "wrangler";
import {
  DEV_CONFIGS,
  deployedConfig,
  deployOrder,
  findMissing,
  formatMissing,
  parseBucketList,
  parseJsonList,
  parseQueueList,
  WORKER_CONFIGS,
  workerNeeds,
} from "./deploy-lib.mjs";
import { buildAdminApp, buildTenantApp } from "./lib/platform.mjs";

const dryRun = process.argv.includes("--dry-run");
const execFileAsync = promisify(execFile);
process.env.WRANGLER_SEND_METRICS = "false";

/** A wrangler command's standard output (its errors are thrown with its stderr). */
const wrangler = (args) =>
  execFileSync("wrangler", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

buildAdminApp();
buildTenantApp();
const configs = dryRun ? [...WORKER_CONFIGS, ...DEV_CONFIGS] : WORKER_CONFIGS;
const workers = deployOrder(
  configs.map((config) => workerNeeds(config, unstable_readConfig({ config }))),
);

if (dryRun) {
  // In parallel: each is mostly wrangler's start-up time.
  const results = await Promise.allSettled(
    workers.map((worker) =>
      execFileAsync("wrangler", [
        "deploy",
        "--dry-run",
        "--outdir",
        `.wrangler/deploy/${worker.name}`,
        "-c",
        deployedConfig(worker.config),
      ]),
    ),
  );
  let failed = false;
  results.forEach((result, i) => {
    const { name, config } = workers[i];
    if (result.status === "fulfilled") {
      console.log(`deploy --dry-run: ${name} (${config}) bundles`);
    } else {
      failed = true;
      console.error(
        `deploy --dry-run: ${config} does not bundle:\n${result.reason.stderr ?? result.reason}`,
      );
    }
  });
  process.exit(failed ? 1 : 0);
}

/** A worker's secret names, or null when the worker does not exist in the account yet. */
function secretsOf(worker) {
  try {
    return parseJsonList(wrangler(["secret", "list", "-c", worker.config, "--format", "json"])).map(
      (s) => s.name,
    );
  } catch {
    return null;
  }
}

/** Every queue in the account, page by page (`queues list` has no JSON mode). */
function queueNames() {
  const names = new Set();
  for (let page = 1; ; page++) {
    const found = parseQueueList(wrangler(["queues", "list", "--page", String(page)]));
    const before = names.size;
    for (const name of found) names.add(name);
    if (names.size === before) return [...names];
  }
}

const account = {
  secrets: Object.fromEntries(workers.map((w) => [w.name, secretsOf(w)])),
  queues: queueNames(),
  databases: parseJsonList(wrangler(["d1", "list", "--json"])),
  buckets: parseBucketList(wrangler(["r2", "bucket", "list"])),
};
const { missing, warnings } = findMissing(workers, account);
for (const warning of warnings) console.warn(`npm run deploy: ${warning}`);
if (missing.length > 0) {
  console.error(formatMissing(missing));
  process.exit(1);
}

const run = (args) => execFileSync("wrangler", args, { stdio: "inherit" });
console.log("npm run deploy: applying the control-plane migrations (remote)");
run(["d1", "migrations", "apply", "CONTROL_DB", "--remote", "-c", "wrangler.toml"]);
for (const worker of workers) {
  console.log(`npm run deploy: ${worker.name} (${worker.config})`);
  run(["deploy", "-c", deployedConfig(worker.config)]);
}
console.log(`npm run deploy: deployed ${workers.map((w) => w.name).join(", ")}`);
