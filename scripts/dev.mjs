// npm run dev: the whole platform on localhost with demo data.
import { readFileSync } from "node:fs";
import {
  applyControlMigrations,
  controlSql,
  ensureDevVars,
  ensureTenant,
  startStripeEmulator,
  startWorker,
  syncStripeCatalog,
} from "./lib/platform.mjs";

export const DEMO_TENANTS = [
  { slug: "acme", name: "Acme Inc.", email: "owner@acme.example", password: "acme-demo-password" },
  {
    slug: "globex",
    name: "Globex Corporation",
    email: "owner@globex.example",
    password: "globex-demo-password",
  },
];
const PORT = 8787;

function devVar(name) {
  const value = readFileSync(".dev.vars", "utf8").match(new RegExp(`^${name}=(.*)$`, "m"))?.[1];
  if (!value) throw new Error(`${name} is missing from .dev.vars (see .dev.vars.example)`);
  return value;
}

if (ensureDevVars()) console.log("created .dev.vars with a fresh JWT signing key");
applyControlMigrations();
// The emulator keeps its state in memory: it starts empty, so local Stripe links from an earlier
// run point at nothing. Forget them; the scheduled sweep (triggered below) links tenants again.
controlSql("UPDATE tenants SET stripe_customer_id = NULL; DELETE FROM subscriptions;");
const stripe = await startStripeEmulator();
syncStripeCatalog(stripe.url, devVar("STRIPE_SECRET_KEY"));
const api = await startWorker({ port: PORT, testScheduled: true });
const tokens = {};
for (const t of DEMO_TENANTS) tokens[t.slug] = await ensureTenant(PORT, t);
await fetch(`${api.url}/__scheduled`);

console.log(`
Tenantry is running.

  API (apex, sign-up)   http://localhost:${PORT}          docs: http://localhost:${PORT}/docs
${DEMO_TENANTS.map((t) => `  ${t.slug.padEnd(8)} owner ${t.email} / ${t.password}   http://${t.slug}.localhost:${PORT}`).join("\n")}
  mail outbox           http://localhost:${PORT}/_dev/outbox
  Stripe emulator       ${stripe.url}  (any sk_test_… key)

Try it:
  curl http://acme.localhost:${PORT}/v1/me -H "Authorization: Bearer ${tokens.acme}"
`);

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    api.stop();
    stripe.stop();
    process.exit(0);
  });
}
for (const child of [api.child, stripe.child]) {
  child.on("exit", (code) => {
    api.stop();
    stripe.stop();
    process.exit(code ?? 1);
  });
}
