// npm run dev: the whole platform on localhost with demo data.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { DEMO_OPERATOR } from "./lib/demo-operator.mjs";
import { DEMO_IDP_URL, DEMO_SSO } from "./lib/demo-sso.mjs";
import { DEMO_TENANTS } from "./lib/demo-tenants.mjs";
import {
  ADMIN_BUILD_CONFIG,
  applyControlMigrations,
  buildAdminApp,
  buildTenantApp,
  ensureDevVars,
  ensureTenant,
  readVars,
  resetLocalStripeLinks,
  STRIPE_EMULATOR_STATE,
  startDemoIdp,
  startStripeEmulator,
  startWorker,
  syncStripeCatalog,
  TENANT_BUILD_CONFIG,
  workerVars,
} from "./lib/platform.mjs";
import { seedDemoOperator } from "./seed-operator.mjs";
import { seedDemoSso } from "./seed-sso.mjs";

const PORT = 8787;
const WEBHOOKS_PORT = 8788;
const STATE = resolve(".wrangler/state");

const note = ensureDevVars();
if (note) console.log(note);
const vars = readVars(".dev.vars");
applyControlMigrations();
// Tenants created by an earlier checkout get the tenant migrations added since (the fleet run of
// a deployed platform, done here at once).
execFileSync("npm", ["run", "--silent", "migrate:tenants"], { stdio: "inherit" });
seedDemoOperator();
// The emulator keeps its state in STRIPE_EMULATOR_STATE across runs, so tenants keep their
// customers and plans. Without that file (first run, `npm run stripe:reset`) it starts empty and
// local Stripe links from an earlier run point at nothing: forget them; the scheduled sweep
// (triggered below) links tenants again.
if (!existsSync(STRIPE_EMULATOR_STATE)) {
  console.log(`No Stripe emulator state in ${STRIPE_EMULATOR_STATE}: starting Stripe afresh.`);
  resetLocalStripeLinks();
}
// wrangler reads each worker's secrets from .dev.vars next to its config: the webhooks and
// metering workers get only their own.
workerVars(
  ["ENVIRONMENT", "STRIPE_SECRET_KEY", "STRIPE_API_BASE", "STRIPE_WEBHOOK_SECRET"],
  "workers/webhooks/.dev.vars",
);
workerVars(["ENVIRONMENT", "STRIPE_SECRET_KEY", "STRIPE_API_BASE"], "workers/metering/.dev.vars");
buildAdminApp();
workerVars(
  [
    "ENVIRONMENT",
    "SUPPORT_SIGNING_KEY",
    "AUDIT_SIGNING_KEY",
    "STRIPE_SECRET_KEY",
    "STRIPE_API_BASE",
  ],
  `${dirname(ADMIN_BUILD_CONFIG)}/.dev.vars`,
);
buildTenantApp();
workerVars(["ENVIRONMENT"], `${dirname(TENANT_BUILD_CONFIG)}/.dev.vars`);
// One process for the workers, so they share one local copy of the databases (and the queues).
// Its first worker, the development router, serves :8787 by host as production's routes do.
const api = await startWorker({
  config: [
    "scripts/dev-router/wrangler.toml",
    "wrangler.toml",
    "workers/webhooks/wrangler.toml",
    "workers/metering/wrangler.toml",
    ADMIN_BUILD_CONFIG,
    TENANT_BUILD_CONFIG,
  ],
  port: PORT,
  persistTo: STATE,
});
const webhooks = await startWorker({
  config: "scripts/dev-port/wrangler.toml",
  port: WEBHOOKS_PORT,
});
const stripe = await startStripeEmulator({
  statePath: STRIPE_EMULATOR_STATE,
  env: {
    STRIPE_WEBHOOK_URL: `${webhooks.url}/stripe/webhook`,
    STRIPE_WEBHOOK_SECRET: vars.STRIPE_WEBHOOK_SECRET,
  },
});
syncStripeCatalog(stripe.url, vars.STRIPE_SECRET_KEY);
const idp = await startDemoIdp();
const tokens = {};
for (const t of DEMO_TENANTS) tokens[t.slug] = await ensureTenant(PORT, t);
await seedDemoSso(PORT, tokens[DEMO_SSO.tenant]);
await fetch(`${api.url}/__scheduled`);
await fetch(`${webhooks.url}/__scheduled`);

console.log(`
Tenantry is running.

  API (apex, sign-up)   http://localhost:${PORT}/v1       docs: http://localhost:${PORT}/docs
  tenant app            http://<slug>.localhost:${PORT}/sign-in  (the API on the same hosts under /v1)
${DEMO_TENANTS.map((t) => `  ${t.slug.padEnd(8)} owner ${t.email} / ${t.password}   http://${t.slug}.localhost:${PORT}`).join("\n")}
  admin (operators)     http://admin.localhost:${PORT}   ${DEMO_OPERATOR.email} / ${DEMO_OPERATOR.password}
                        TOTP secret ${DEMO_OPERATOR.totpSecret} (or: npm run seed:operator prints a code)
  mail outbox           http://localhost:${PORT}/_dev/outbox
  webhooks worker       ${webhooks.url}/stripe/webhook  (the emulator delivers here)
  metering worker       consumes the USAGE queue; check with: npm run usage:reconcile
  Stripe emulator       ${stripe.url}  (any sk_test_… key)
  demo SAML IdP         ${DEMO_IDP_URL}/metadata  (and DNS-over-HTTPS on :${DEMO_SSO.dohPort})

Try single sign-on (SAML; ${DEMO_SSO.tenant}'s connection is on http://${DEMO_SSO.tenant}.localhost:${PORT}/settings/sso):
  open http://${DEMO_SSO.tenant}.localhost:${PORT}/sign-in, enter ${DEMO_SSO.user.email}, press "Continue with SSO";
  the demo IdP's page asks who signs in (groups: ${DEMO_SSO.roleMapping.rules.map((r) => `${r.value} → ${r.role}`).join(", ")}) and
  posts the signed response back: ada lands on the dashboard as a new member. The owner keeps
  password sign-in (break-glass).

Try it:
  curl http://acme.localhost:${PORT}/v1/me -H "Authorization: Bearer ${tokens.acme}"
`);

const all = [api, webhooks, stripe, idp];
const stopAll = (code) => {
  for (const p of all) p.stop();
  process.exit(code);
};
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => stopAll(0));
for (const p of all) p.child.on("exit", (code) => stopAll(code ?? 1));
