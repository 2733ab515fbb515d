/**
 * The platform as `npm run dev` runs it, on ports of its own, for the end-to-end and browser
 * tests: the development router, API, webhooks, metering, admin and tenant app workers in one
 * `wrangler dev` process (the router serves :8827 by host and path, as production's routes do), the webhooks
 * worker also on :8828 for the Stripe emulator (:12127), which delivers signed webhooks.
 * Started once for the whole e2e project by global-setup.ts.
 */
import { rmSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import {
  applyControlMigrations,
  buildAdminApp,
  buildTenantApp,
  controlSql,
  devPortConfig,
  devRouterConfig,
  ensureDevVars,
  ensureTenant,
  fittedAdminConfig,
  fittedTenantConfig,
  fittedWorkerConfig,
  readVars,
  startStripeEmulator,
  startWorker,
  syncStripeCatalog,
} from "../../scripts/lib/platform.mjs";
import { poolEntry, WRANGLER } from "../../scripts/pool-lib.mjs";
import { seedDemoOperator } from "../../scripts/seed-operator.mjs";

/** `E2E_PORT_OFFSET` moves every port, so two checkouts can run their e2e tests side by side. */
const OFFSET = Number(process.env.E2E_PORT_OFFSET ?? 0);
export const API_PORT = 8827 + OFFSET;
export const WEBHOOKS_PORT = 8828 + OFFSET;
export const STRIPE_PORT = 12127 + OFFSET;
export const ADMIN_URL = `http://admin.localhost:${API_PORT}`;
/** The SSO browser tests' own OpenID Provider, DNS-over-HTTPS stand-in and SAML IdP (they start them). */
export const IDP_PORT = 8840 + OFFSET;
export const DOH_PORT = 8841 + OFFSET;
export const SAML_IDP_PORT = 8842 + OFFSET;
const TMP = resolve("tests/e2e/.tmp");
export const STATE = `${TMP}/state`;
export const STRIPE_KEY = "sk_test_tenantry_e2e";
const WEBHOOK_SECRET = "whsec_tenantry_e2e";
const stripeVars = `STRIPE_SECRET_KEY=${STRIPE_KEY}\nSTRIPE_API_BASE=http://localhost:${STRIPE_PORT}\n`;

/** The tenant every e2e test file starts from, with its owner's access token. */
export const E2E_TENANT = {
  slug: "e2e",
  name: "E2E",
  email: "owner@e2e.example",
  password: "e2e-password-1",
};

/** Past-due grace in days, for the API and the webhooks worker's re-sync alike. */
const GRACE: [RegExp, string] = [/^BILLING_GRACE_DAYS = ".+"$/m, 'BILLING_GRACE_DAYS = "0"'];

export async function startPlatform(): Promise<{ token: string; stop: () => void }> {
  const procs: { stop: () => void }[] = [];
  const stop = () => {
    for (const p of procs) p.stop();
  };
  try {
    return { token: await start(procs), stop };
  } catch (err) {
    stop();
    throw err;
  }
}

async function start(procs: { stop: () => void }[]): Promise<string> {
  rmSync(TMP, { recursive: true, force: true });
  // Browser tests sign up a fresh tenant per test, each taking a database from the pool.
  const pool = Array.from({ length: 64 }, (_, i) => poolEntry(i + 1));
  const names = (worker: string): [RegExp, string] => [
    /^name = "(.+)"$/m,
    `name = "${worker}-e2e"`,
  ];
  const api = fittedWorkerConfig({
    source: WRANGLER,
    dir: `${TMP}/api`,
    pool,
    replacements: [
      names("tenantry-api"),
      [/\b8787\b/g, String(API_PORT)],
      [/^METER_FLUSH_SECONDS = ".+"$/m, 'METER_FLUSH_SECONDS = "2"'],
      // A suspension reaches the API within this bound; the browser tests wait for it.
      [/^REGISTRY_CACHE_TTL_SECONDS = ".+"$/m, 'REGISTRY_CACHE_TTL_SECONDS = "1"'],
      // No grace: a failed payment makes the tenant read-only at once (tenant-billing.test.ts).
      GRACE,
    ],
  });
  const webhooks = fittedWorkerConfig({
    source: "workers/webhooks/wrangler.toml",
    dir: `${TMP}/webhooks`,
    pool,
    replacements: [
      names("tenantry-webhooks"),
      [/script_name = "tenantry-api"/, 'script_name = "tenantry-api-e2e"'],
      [/^BILLING_COALESCE_SECONDS = ".+"$/m, 'BILLING_COALESCE_SECONDS = "1"'],
      GRACE,
    ],
  });
  const metering = fittedWorkerConfig({
    source: "workers/metering/wrangler.toml",
    dir: `${TMP}/metering`,
    replacements: [names("tenantry-metering")],
  });
  buildAdminApp();
  const admin = fittedAdminConfig({
    dir: `${TMP}/admin`,
    name: "tenantry-admin-e2e",
    apiName: "tenantry-api-e2e",
    pool,
    // JWT_ISSUER as the API's (its 8787 became API_PORT): support tokens carry it.
    vars: { BASE_DOMAIN: `localhost:${API_PORT}`, JWT_ISSUER: `http://localhost:${API_PORT}` },
  });
  buildTenantApp();
  const tenant = fittedTenantConfig({
    dir: `${TMP}/tenant`,
    name: "tenantry-tenant-e2e",
    apiName: "tenantry-api-e2e",
    // The apex, where sign-up is, moved with the API's port.
    vars: { BASE_DOMAIN: `localhost:${API_PORT}` },
  });
  const router = devRouterConfig(`${TMP}/router`, "tenantry-dev-router-e2e", {
    api: "tenantry-api-e2e",
    admin: "tenantry-admin-e2e",
    tenant: "tenantry-tenant-e2e",
  });
  ensureDevVars(`${TMP}/api/.dev.vars`);
  writeFileSync(
    `${TMP}/api/.dev.vars`,
    `${stripeVars}SSO_DNS_RESOLVER=http://localhost:${DOH_PORT}/dns-query\n`,
    { flag: "a" },
  );
  writeFileSync(
    `${TMP}/webhooks/.dev.vars`,
    `ENVIRONMENT=development\n${stripeVars}STRIPE_WEBHOOK_SECRET=${WEBHOOK_SECRET}\n`,
  );
  writeFileSync(`${TMP}/metering/.dev.vars`, stripeVars);
  const { SUPPORT_SIGNING_KEY, AUDIT_SIGNING_KEY } = readVars(`${TMP}/api/.dev.vars`);
  writeFileSync(
    `${TMP}/admin/.dev.vars`,
    `ENVIRONMENT=development\nSUPPORT_SIGNING_KEY=${SUPPORT_SIGNING_KEY}\nAUDIT_SIGNING_KEY=${AUDIT_SIGNING_KEY}\n${stripeVars}`,
  );

  applyControlMigrations({ config: api, persistTo: STATE });
  // The demo operator (scripts/lib/demo-operator.mjs), so every browser test file can sign in.
  seedDemoOperator({ config: api, persistTo: STATE });
  procs.push(
    await startWorker({
      config: [router, api, webhooks, metering, admin, tenant],
      port: API_PORT,
      persistTo: STATE,
      quiet: true,
    }),
  );
  procs.push(
    await startWorker({
      config: devPortConfig(`${TMP}/port`, "tenantry-dev-port-e2e", "tenantry-webhooks-e2e"),
      port: WEBHOOKS_PORT,
      quiet: true,
    }),
  );
  const emulator = await startStripeEmulator({
    port: STRIPE_PORT,
    env: {
      STRIPE_WEBHOOK_URL: `http://localhost:${WEBHOOKS_PORT}/stripe/webhook`,
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    },
  });
  procs.push(emulator);
  syncStripeCatalog(emulator.url, STRIPE_KEY);
  return ensureTenant(API_PORT, E2E_TENANT);
}

export async function eventually<T>(
  check: () => Promise<T | null | undefined | false>,
  ms = 60_000,
) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Grants a tenant a plan feature through an entitlement override, as an operator would. */
export function grantFeature(tenantId: string, feature: string) {
  const override = JSON.stringify({
    type: "feature",
    key: feature,
    value: true,
    reason: "browser test",
    expiresAt: null,
  });
  controlSql(
    `INSERT INTO entitlement_overrides (id, tenant_id, override, expires_at, created_at) VALUES ('ovr_e2e_${tenantId}', '${tenantId}', '${override}', NULL, ${Date.now()})`,
    { config: `${TMP}/api/wrangler.toml`, persistTo: STATE },
  );
}
