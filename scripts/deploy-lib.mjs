// The pure half of `npm run deploy` (scripts/deploy.mjs): what each worker needs from the
// Cloudflare account, the order to deploy in, and which needs are missing from what wrangler
// reports. No I/O here, so it is tested with recorded wrangler output (scripts/test/).
import { ADMIN_BUILD_CONFIG, TENANT_BUILD_CONFIG } from "./lib/platform.mjs";
import { isPlaceholderId } from "./pool-lib.mjs";

/** The deployed workers' configs; the deploy order comes from their bindings (`deployOrder`). */
export const WORKER_CONFIGS = [
  "wrangler.toml",
  "workers/webhooks/wrangler.toml",
  "workers/metering/wrangler.toml",
  "apps/admin/wrangler.toml",
  "apps/tenant/wrangler.toml",
];

/** The React Router apps' source configs and the configs their builds derive from them. */
const BUILT_CONFIGS = {
  "apps/admin/wrangler.toml": ADMIN_BUILD_CONFIG,
  "apps/tenant/wrangler.toml": TENANT_BUILD_CONFIG,
};

/**
 * The config wrangler deploys for `config`: the admin and tenant apps deploy from React Router's
 * build (`npm run build -w <app>` writes the bundle and a config derived from its wrangler.toml,
 * with the same bindings and vars).
 */
export function deployedConfig(config) {
  return BUILT_CONFIGS[config] ?? config;
}
/** Development only, never deployed; `--dry-run` still bundles them so a broken config fails CI. */
export const DEV_CONFIGS = ["scripts/dev-port/wrangler.toml", "scripts/dev-router/wrangler.toml"];

/**
 * What each worker needs in production beyond its bindings: secrets (`wrangler secret put NAME -c
 * CONFIG`; optional ones turn a feature off when unset, as the README's configuration table
 * says, which a test keeps equal to this list) and `[vars]` the deploy config must set: a value,
 * or a pattern with an example. The development defaults in the configs (localhost, http, no
 * mailer) fail these on purpose.
 */
export const PRODUCTION = {
  "tenantry-api": {
    secrets: ["JWT_PRIVATE_KEY", "AUDIT_SIGNING_KEY", "MAIL_API_TOKEN", "SSO_ENCRYPTION_KEY"],
    optionalSecrets: ["STRIPE_SECRET_KEY", "HEALTH_TOKEN"],
    vars: {
      BASE_DOMAIN: { match: /^(?!localhost\b)[a-z0-9.-]+$/, example: '"example.com" (no port)' },
      PUBLIC_SCHEME: "https",
      JWT_ISSUER: { match: /^https:\/\//, example: '"https://example.com"' },
      MAILER: "resend",
      MAIL_FROM: { match: /\S/, example: '"Example <no-reply@mail.example.com>"' },
    },
  },
  "tenantry-webhooks": {
    secrets: ["STRIPE_WEBHOOK_SECRET", "STRIPE_SECRET_KEY"],
    optionalSecrets: [],
    vars: {},
  },
  "tenantry-metering": { secrets: ["STRIPE_SECRET_KEY"], optionalSecrets: [], vars: {} },
  "tenantry-admin": {
    secrets: ["SUPPORT_SIGNING_KEY", "AUDIT_SIGNING_KEY"],
    optionalSecrets: [],
    vars: {
      BASE_DOMAIN: { match: /^(?!localhost\b)[a-z0-9.-]+$/, example: '"example.com" (no port)' },
      PUBLIC_SCHEME: "https",
      JWT_ISSUER: { match: /^https:\/\//, example: '"https://example.com"' },
      ACCESS_TEAM_DOMAIN: {
        match: /^https:\/\/[a-z0-9-]+\.cloudflareaccess\.com$/,
        example: '"https://<team>.cloudflareaccess.com"',
      },
      ACCESS_AUD: { match: /^[0-9a-f]{64}$/, example: "the Access application's AUD tag" },
    },
  },
  // https makes the session cookie Secure and `__Host-` prefixed; BASE_DOMAIN names the apex.
  "tenantry-tenant": {
    secrets: [],
    optionalSecrets: [],
    vars: {
      BASE_DOMAIN: { match: /^(?!localhost\b)[a-z0-9.-]+$/, example: '"example.com" (no port)' },
      PUBLIC_SCHEME: "https",
    },
  },
};
const NOTHING = { secrets: [], optionalSecrets: [], vars: {} };

const POOL_BINDING = /^TENANT_DB_\d+$/;

/** What one worker config (as `unstable_readConfig` returns it) needs from the account. */
export function workerNeeds(configPath, config) {
  const queues = new Set();
  for (const producer of config.queues?.producers ?? []) queues.add(producer.queue);
  for (const consumer of config.queues?.consumers ?? []) {
    queues.add(consumer.queue);
    if (consumer.dead_letter_queue) queues.add(consumer.dead_letter_queue);
  }
  const bound = [
    ...(config.durable_objects?.bindings ?? []).map((b) => b.script_name),
    ...(config.services ?? []).map((s) => s.service),
  ];
  return {
    name: config.name,
    config: configPath,
    dependsOn: [...new Set(bound)].filter((name) => name && name !== config.name),
    queues: [...queues],
    databases: (config.d1_databases ?? []).map((d) => ({
      binding: d.binding,
      name: d.database_name,
      id: d.database_id,
    })),
    kvNamespaces: (config.kv_namespaces ?? []).map((k) => ({ binding: k.binding, id: k.id })),
    buckets: (config.r2_buckets ?? []).map((b) => b.bucket_name),
    vars: config.vars ?? {},
    production: PRODUCTION[config.name] ?? NOTHING,
  };
}

/**
 * Workers in an order where each comes after the workers whose Durable Objects or services it
 * binds (the webhooks worker binds the API worker's TenantMeter class). Stable otherwise.
 */
export function deployOrder(workers) {
  const byName = new Map(workers.map((w) => [w.name, w]));
  const ordered = [];
  const visiting = new Set();
  const visit = (worker) => {
    if (ordered.includes(worker)) return;
    if (visiting.has(worker.name)) throw new Error(`workers bind each other: ${worker.name}`);
    visiting.add(worker.name);
    for (const dependency of worker.dependsOn) {
      const target = byName.get(dependency);
      if (target) visit(target);
    }
    ordered.push(worker);
  };
  for (const worker of workers) visit(worker);
  return ordered;
}

/** Queue names in `wrangler queues list` output, a table (the command has no JSON mode). */
export function parseQueueList(text) {
  const rows = text
    .split("\n")
    .filter((line) => /^\s*[│|]/.test(line))
    .map((line) =>
      line
        .trim()
        .replace(/^[│|]|[│|]$/g, "")
        .split(/[│|]/)
        .map((cell) => cell.trim()),
    );
  const column = rows[0]?.indexOf("name") ?? -1;
  if (column === -1) return [];
  return rows.slice(1).map((row) => row[column] ?? "");
}

/** Bucket names in `wrangler r2 bucket list` output (`name:  <bucket>` lines; no JSON mode). */
export function parseBucketList(text) {
  return [...text.matchAll(/^name:\s+(\S+)/gm)].map((m) => m[1]);
}

/** The JSON array in a wrangler command's output (`d1 list --json`, `secret list`). */
export function parseJsonList(text) {
  const start = text.indexOf("[");
  const end = text.lastIndexOf("]");
  if (start === -1 || end < start) throw new Error(`no JSON list in wrangler output:\n${text}`);
  return JSON.parse(text.slice(start, end + 1));
}

/**
 * Compares what the workers need with what the account has. `account.secrets[worker]` is the
 * list of secret names, or null when the worker does not exist yet; `account.queues` the queue
 * names; `account.databases` the D1 databases (`{ uuid, name }`); `account.buckets` the R2
 * bucket names. Returns every missing item with
 * the command that fixes it (including `[vars]` production needs), and warnings for optional
 * secrets that are not set.
 */
export function findMissing(workers, account) {
  const missing = [];
  const warnings = [];
  for (const worker of workers) {
    const { secrets, optionalSecrets, vars } = worker.production;
    const have = new Set(account.secrets[worker.name] ?? []);
    for (const name of secrets) {
      if (!have.has(name)) {
        missing.push({
          what: `secret ${name} (${worker.name})`,
          fix: `wrangler secret put ${name} -c ${worker.config}`,
        });
      }
    }
    for (const name of optionalSecrets) {
      if (!have.has(name)) {
        warnings.push(
          `secret ${name} (${worker.name}) is not set: that feature stays off (see the README)`,
        );
      }
    }
    for (const [name, wanted] of Object.entries(vars)) {
      const set = worker.vars[name];
      if (typeof wanted === "string" ? set !== wanted : !wanted.match.test(set ?? "")) {
        missing.push({
          what: `variable ${name} (${worker.name}) is ${set ? `"${set}"` : "not set"}`,
          fix: `set ${name} = ${typeof wanted === "string" ? `"${wanted}"` : wanted.example} in [vars] of ${worker.config}`,
        });
      }
    }
  }

  const queues = new Set(account.queues);
  for (const [queue, users] of usersOf(workers, (w) => w.queues)) {
    if (!queues.has(queue)) {
      missing.push({
        what: `queue ${queue} (${users.join(", ")})`,
        fix: `wrangler queues create ${queue}`,
      });
    }
  }

  const buckets = new Set(account.buckets);
  for (const [bucket, users] of usersOf(workers, (w) => w.buckets)) {
    if (!buckets.has(bucket)) {
      missing.push({
        what: `R2 bucket ${bucket} (${users.join(", ")})`,
        fix: `wrangler r2 bucket create ${bucket}`,
      });
    }
  }

  const ids = new Set(account.databases.map((d) => d.uuid));
  const unplacedPool = [];
  for (const [database, users] of usersOf(workers, (w) => w.databases.map(JSON.stringify))) {
    const { binding, name, id } = JSON.parse(database);
    const pool = POOL_BINDING.test(binding);
    if (isPlaceholderId(id) && pool) {
      unplacedPool.push(name);
    } else if (isPlaceholderId(id)) {
      missing.push({
        what: `database ${name} (${binding}; ${users.join(", ")}) has a local placeholder id`,
        fix: `wrangler d1 create ${name}, then set its database_id in ${configsOf(workers, binding)}`,
      });
    } else if (!ids.has(id)) {
      missing.push({
        what: `database ${name} (${binding}, id ${id}) is not in this account`,
        fix: pool
          ? `wrangler d1 create ${name}, then record its id in schema/tenant-pool.json and run npm run pool:sync`
          : `wrangler d1 create ${name}, then set its database_id in ${configsOf(workers, binding)}`,
      });
    }
  }
  if (unplacedPool.length > 0) {
    const range =
      unplacedPool.length === 1 ? unplacedPool[0] : `${unplacedPool[0]} … ${unplacedPool.at(-1)}`;
    missing.push({
      what: `${unplacedPool.length} tenant pool databases (${range}) have local placeholder ids`,
      fix: "npm run pool:create",
    });
  }
  // The configs carry an all-zero KV id for local development; wrangler deploy would refuse it.
  for (const worker of workers) {
    for (const { binding, id } of worker.kvNamespaces) {
      if (/^0+$/.test(id ?? "")) {
        missing.push({
          what: `KV namespace ${binding} (${worker.name}) has a local placeholder id`,
          fix: `wrangler kv namespace create ${binding}, then set its id in [[kv_namespaces]] of ${worker.config}`,
        });
      }
    }
  }
  return { missing, warnings };
}

/** One readable error: every missing item, each followed by the command that fixes it. */
export function formatMissing(missing) {
  const s = missing.length === 1 ? "" : "s";
  return [
    `npm run deploy: nothing was deployed; the account is missing ${missing.length} item${s}:`,
    ...missing.map((m) => `  - ${m.what}\n      fix: ${m.fix}`),
  ].join("\n");
}

/** Each item (by key) with the names of the workers that need it, in first-seen order. */
function usersOf(workers, itemsOf) {
  const users = new Map();
  for (const worker of workers) {
    for (const item of itemsOf(worker)) users.set(item, [...(users.get(item) ?? []), worker.name]);
  }
  return users;
}

function configsOf(workers, binding) {
  return workers
    .filter((w) => w.databases.some((d) => d.binding === binding))
    .map((w) => w.config)
    .join(", ");
}
