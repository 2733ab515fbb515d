// The checks of `npm run deploy` against recorded wrangler output; the real commands only run
// under `npm run deploy` (they need a Cloudflare account).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { unstable_readConfig } from "wrangler";
import {
  DEV_CONFIGS,
  deployOrder,
  findMissing,
  formatMissing,
  PRODUCTION,
  parseBucketList,
  parseJsonList,
  parseQueueList,
  WORKER_CONFIGS,
  workerNeeds,
} from "../deploy-lib.mjs";
import { poolEntry } from "../pool-lib.mjs";

const workers = WORKER_CONFIGS.map((config) =>
  workerNeeds(config, unstable_readConfig({ config })),
);
const names = (list) => list.map((w) => w.name);

const QUEUES_TABLE = `
┌──────────────────────────────────┬─────────────────────┬─────────────────────────────┬─────────────────────────────┬───────────┬───────────┐
│ id                               │ name                │ created_on                  │ modified_on                 │ producers │ consumers │
├──────────────────────────────────┼─────────────────────┼─────────────────────────────┼─────────────────────────────┼───────────┼───────────┤
│ 4f1d3b6c0e9a4c2b8d7e6f5a4b3c2d1e │ tenantry-usage      │ 2026-11-20T10:00:00.000000Z │ 2026-11-20T10:00:00.000000Z │ 1         │ 1         │
├──────────────────────────────────┼─────────────────────┼─────────────────────────────┼─────────────────────────────┼───────────┼───────────┤
│ 5a2e4c7d1f0b5d3c9e8f7a6b5c4d3e2f │ tenantry-billing    │ 2026-11-20T10:00:00.000000Z │ 2026-11-20T10:00:00.000000Z │ 1         │ 1         │
└──────────────────────────────────┴─────────────────────┴─────────────────────────────┴─────────────────────────────┴───────────┴───────────┘`;

/** An account where everything the workers need exists (ids made real, as pool:create does). */
function completeAccount(ws) {
  const databases = ws.flatMap((w) => w.databases);
  return {
    secrets: Object.fromEntries(
      ws.map((w) => [w.name, [...w.production.secrets, ...w.production.optionalSecrets]]),
    ),
    queues: [...new Set(ws.flatMap((w) => w.queues))],
    databases: databases.map((d) => ({ uuid: d.id, name: d.name })),
    buckets: [...new Set(ws.flatMap((w) => w.buckets))],
  };
}

const R2_BUCKETS = `Listing buckets...
name:           tenantry-exports
creation_date:  2026-11-20T10:00:00.000Z
`;

const PRODUCTION_VARS = {
  "tenantry-api": {
    BASE_DOMAIN: "acme-saas.example",
    PUBLIC_SCHEME: "https",
    JWT_ISSUER: "https://acme-saas.example",
    MAILER: "resend",
    MAIL_FROM: "Acme <no-reply@mail.acme-saas.example>",
  },
  "tenantry-admin": {
    BASE_DOMAIN: "acme-saas.example",
    PUBLIC_SCHEME: "https",
    JWT_ISSUER: "https://acme-saas.example",
    ACCESS_TEAM_DOMAIN: "https://acme.cloudflareaccess.com",
    ACCESS_AUD: "a".repeat(64),
  },
  "tenantry-tenant": { BASE_DOMAIN: "acme-saas.example", PUBLIC_SCHEME: "https" },
};

/**
 * The workers as a production deploy config has them: real-looking database and KV ids (the
 * configs carry local placeholders) and the production mailer.
 */
function productionReady(ws) {
  return ws.map((w) => ({
    ...w,
    databases: w.databases.map((d) => ({ ...d, id: d.id.replace(/^00000000/, "1234abcd") })),
    kvNamespaces: w.kvNamespaces.map((k) => ({ ...k, id: "8f2d4c6b1a3e5f7d9c0b2a4e6f8d1c3b" })),
    vars: { ...w.vars, ...(PRODUCTION_VARS[w.name] ?? {}) },
  }));
}

describe("npm run deploy", () => {
  it("deploys the API worker before the workers that bind its Durable Object or service", () => {
    const order = names(deployOrder([...workers].reverse()));
    expect([...order].sort()).toEqual([
      "tenantry-admin",
      "tenantry-api",
      "tenantry-metering",
      "tenantry-tenant",
      "tenantry-webhooks",
    ]);
    expect(order.indexOf("tenantry-api")).toBeLessThan(order.indexOf("tenantry-webhooks"));
    expect(order.indexOf("tenantry-api")).toBeLessThan(order.indexOf("tenantry-admin"));
    expect(order.indexOf("tenantry-api")).toBeLessThan(order.indexOf("tenantry-tenant"));
    const dev = DEV_CONFIGS.map((config) => workerNeeds(config, unstable_readConfig({ config })));
    const all = names(deployOrder([...dev, ...workers]));
    expect(all.indexOf("tenantry-webhooks")).toBeLessThan(all.indexOf("tenantry-dev-port"));
  });

  it("derives queues (with their dead-letter queues) and databases from the configs", () => {
    const [api, webhooks, metering] = workers;
    expect(api.queues).toEqual(["tenantry-usage", "tenantry-mail", "tenantry-mail-dlq"]);
    expect(api.buckets).toEqual(["tenantry-branding"]);
    expect(webhooks.queues).toEqual(["tenantry-billing", "tenantry-billing-dlq"]);
    expect(metering.queues).toEqual(["tenantry-usage", "tenantry-usage-dlq"]);
    expect(webhooks.dependsOn).toEqual(["tenantry-api"]);
    expect(api.databases[0]).toMatchObject({ binding: "CONTROL_DB", name: "tenantry-control" });
    const { binding, database_name, database_id } = poolEntry(1);
    expect(api.databases).toContainEqual({ binding, name: database_name, id: database_id });
  });

  it("finds nothing missing in a complete account", () => {
    const ready = productionReady(workers);
    expect(findMissing(ready, completeAccount(ready))).toEqual({ missing: [], warnings: [] });
  });

  it("names each missing secret, queue and database with the command that fixes it", () => {
    const account = {
      // The API worker exists without its optional Stripe key; the others were never deployed.
      secrets: {
        "tenantry-api": [
          "JWT_PRIVATE_KEY",
          "AUDIT_SIGNING_KEY",
          "MAIL_API_TOKEN",
          "SSO_ENCRYPTION_KEY",
        ],
        "tenantry-webhooks": null,
      },
      queues: parseQueueList(QUEUES_TABLE),
      databases: parseJsonList(
        `[{"uuid":"7d3f0c1e-2b4a-4c5d-8e6f-7a8b9c0d1e2f","name":"unrelated","version":"production"}]`,
      ),
      buckets: parseBucketList(R2_BUCKETS),
    };
    const { missing, warnings } = findMissing(workers, account);
    expect(missing).toEqual([
      {
        what: 'variable BASE_DOMAIN (tenantry-api) is "localhost:8787"',
        fix: 'set BASE_DOMAIN = "example.com" (no port) in [vars] of wrangler.toml',
      },
      {
        what: 'variable PUBLIC_SCHEME (tenantry-api) is "http"',
        fix: 'set PUBLIC_SCHEME = "https" in [vars] of wrangler.toml',
      },
      {
        what: 'variable JWT_ISSUER (tenantry-api) is "http://localhost:8787"',
        fix: 'set JWT_ISSUER = "https://example.com" in [vars] of wrangler.toml',
      },
      {
        what: "variable MAILER (tenantry-api) is not set",
        fix: 'set MAILER = "resend" in [vars] of wrangler.toml',
      },
      {
        what: "variable MAIL_FROM (tenantry-api) is not set",
        fix: 'set MAIL_FROM = "Example <no-reply@mail.example.com>" in [vars] of wrangler.toml',
      },
      {
        what: "secret STRIPE_WEBHOOK_SECRET (tenantry-webhooks)",
        fix: "wrangler secret put STRIPE_WEBHOOK_SECRET -c workers/webhooks/wrangler.toml",
      },
      {
        what: "secret STRIPE_SECRET_KEY (tenantry-webhooks)",
        fix: "wrangler secret put STRIPE_SECRET_KEY -c workers/webhooks/wrangler.toml",
      },
      {
        what: "secret STRIPE_SECRET_KEY (tenantry-metering)",
        fix: "wrangler secret put STRIPE_SECRET_KEY -c workers/metering/wrangler.toml",
      },
      {
        what: "secret SUPPORT_SIGNING_KEY (tenantry-admin)",
        fix: "wrangler secret put SUPPORT_SIGNING_KEY -c apps/admin/wrangler.toml",
      },
      {
        what: "secret AUDIT_SIGNING_KEY (tenantry-admin)",
        fix: "wrangler secret put AUDIT_SIGNING_KEY -c apps/admin/wrangler.toml",
      },
      {
        what: 'variable BASE_DOMAIN (tenantry-admin) is "localhost:8787"',
        fix: 'set BASE_DOMAIN = "example.com" (no port) in [vars] of apps/admin/wrangler.toml',
      },
      {
        what: 'variable PUBLIC_SCHEME (tenantry-admin) is "http"',
        fix: 'set PUBLIC_SCHEME = "https" in [vars] of apps/admin/wrangler.toml',
      },
      {
        what: 'variable JWT_ISSUER (tenantry-admin) is "http://localhost:8787"',
        fix: 'set JWT_ISSUER = "https://example.com" in [vars] of apps/admin/wrangler.toml',
      },
      {
        what: "variable ACCESS_TEAM_DOMAIN (tenantry-admin) is not set",
        fix: 'set ACCESS_TEAM_DOMAIN = "https://<team>.cloudflareaccess.com" in [vars] of apps/admin/wrangler.toml',
      },
      {
        what: "variable ACCESS_AUD (tenantry-admin) is not set",
        fix: "set ACCESS_AUD = the Access application's AUD tag in [vars] of apps/admin/wrangler.toml",
      },
      {
        what: 'variable BASE_DOMAIN (tenantry-tenant) is "localhost:8787"',
        fix: 'set BASE_DOMAIN = "example.com" (no port) in [vars] of apps/tenant/wrangler.toml',
      },
      {
        what: 'variable PUBLIC_SCHEME (tenantry-tenant) is "http"',
        fix: 'set PUBLIC_SCHEME = "https" in [vars] of apps/tenant/wrangler.toml',
      },
      {
        what: "queue tenantry-mail (tenantry-api, tenantry-admin)",
        fix: "wrangler queues create tenantry-mail",
      },
      {
        what: "queue tenantry-mail-dlq (tenantry-api)",
        fix: "wrangler queues create tenantry-mail-dlq",
      },
      {
        what: "queue tenantry-billing-dlq (tenantry-webhooks)",
        fix: "wrangler queues create tenantry-billing-dlq",
      },
      {
        what: "queue tenantry-usage-dlq (tenantry-metering)",
        fix: "wrangler queues create tenantry-usage-dlq",
      },
      {
        what: "queue tenantry-fleet (tenantry-admin)",
        fix: "wrangler queues create tenantry-fleet",
      },
      {
        what: "R2 bucket tenantry-branding (tenantry-api)",
        fix: "wrangler r2 bucket create tenantry-branding",
      },
      {
        what: "database tenantry-control (CONTROL_DB; tenantry-api, tenantry-webhooks, tenantry-metering, tenantry-admin) has a local placeholder id",
        fix: "wrangler d1 create tenantry-control, then set its database_id in wrangler.toml, workers/webhooks/wrangler.toml, workers/metering/wrangler.toml, apps/admin/wrangler.toml",
      },
      {
        what: "32 tenant pool databases (tenantry-tenant-0001 … tenantry-tenant-0032) have local placeholder ids",
        fix: "npm run pool:create",
      },
      {
        what: "KV namespace AUDIT_ANCHORS (tenantry-api) has a local placeholder id",
        fix: "wrangler kv namespace create AUDIT_ANCHORS, then set its id in [[kv_namespaces]] of wrangler.toml",
      },
      {
        what: "KV namespace AUDIT_ANCHORS (tenantry-admin) has a local placeholder id",
        fix: "wrangler kv namespace create AUDIT_ANCHORS, then set its id in [[kv_namespaces]] of apps/admin/wrangler.toml",
      },
    ]);
    expect(warnings).toEqual([
      "secret STRIPE_SECRET_KEY (tenantry-api) is not set: that feature stays off (see the README)",
      "secret HEALTH_TOKEN (tenantry-api) is not set: that feature stays off (see the README)",
    ]);
    const message = formatMissing(missing);
    expect(message).toMatch(
      /^npm run deploy: nothing was deployed; the account is missing 27 items:/,
    );
    for (const { what, fix } of missing)
      expect(`${message}\n`).toContain(`  - ${what}\n      fix: ${fix}\n`);
  });

  it("reports a database whose recorded id the account does not have", () => {
    const ready = productionReady(workers);
    const account = completeAccount(ready);
    account.databases = account.databases.filter((d) => d.name !== "tenantry-tenant-0007");
    expect(findMissing(ready, account).missing).toEqual([
      {
        what: "database tenantry-tenant-0007 (TENANT_DB_0007, id 1234abcd-0000-4000-8000-000000000007) is not in this account",
        fix: "wrangler d1 create tenantry-tenant-0007, then record its id in schema/tenant-pool.json and run npm run pool:sync",
      },
    ]);
  });

  it("knows every secret the README's configuration table lists, and nothing else", () => {
    const readme = readFileSync("README.md", "utf8");
    const documented = [...readme.matchAll(/^\| `([A-Z_]+)` \| secret \|/gm)].map((m) => m[1]);
    const known = Object.values(PRODUCTION).flatMap((p) => [...p.secrets, ...p.optionalSecrets]);
    expect([...new Set(known)].sort()).toEqual([...new Set(documented)].sort());
  });
});
