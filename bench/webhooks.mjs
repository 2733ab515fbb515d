// npm run bench:webhooks: the Stripe webhook intake and the billing reconciliation behind it,
// under `wrangler dev` over loopback. See bench/README.md for what and why.
import { createHmac } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import Stripe from "stripe";
import {
  applyControlMigrations,
  call,
  devPortConfig,
  ensureDevVars,
  fittedWorkerConfig,
  printTable,
  startStripeEmulator,
  startWorker,
  syncStripeCatalog,
} from "../scripts/lib/platform.mjs";
import { poolEntry, WRANGLER } from "../scripts/pool-lib.mjs";
import { machine, runBench, signUpTenants, stopProcess, writeResults } from "./lib.mjs";

process.chdir(resolve(dirname(fileURLToPath(import.meta.url)), ".."));
const require = createRequire(import.meta.url);

// Not the development ports, so the bench can run beside `npm run dev`.
const API_PORT = 8797;
const PORT = 8798;
const STRIPE_PORT = 12112;
const TMP = "bench/.tmp/webhooks";
const STATE = `${TMP}/state`;
const RESULTS = "bench/results/webhooks.json";
const SECRET = "whsec_tenantry_bench";
const STRIPE_KEY = "sk_test_tenantry_bench";
const TENANTS = 100;
const EVENTS = 10_000;
const DUPLICATE_SHARE = 0.2;
const CONNECTIONS = 32;
const BASELINE_SECONDS = 5;
const EVENT_TYPES = [
  "customer.subscription.updated",
  "invoice.created",
  "invoice.finalized",
  "invoice.paid",
  "invoice.payment_succeeded",
];

const log = (msg) => console.log(`[bench:webhooks] ${msg}`);
const procs = [];

/**
 * The webhooks and API workers (one process, so they share state; the webhooks worker serves
 * PORT directly) and a forwarder that serves the API on API_PORT for seeding and checks.
 */
function writeConfigs() {
  rmSync(TMP, { recursive: true, force: true });
  const pool = Array.from({ length: 128 }, (_, i) => poolEntry(i + 1));
  // Own worker names, so the dev registry never confuses them with `npm run dev`'s.
  const api = fittedWorkerConfig({
    source: WRANGLER,
    dir: `${TMP}/api`,
    pool,
    replacements: [
      [/^name = ".+"$/m, 'name = "tenantry-api-bench"'],
      [/\b8787\b/g, String(API_PORT)],
    ],
  });
  const webhooks = fittedWorkerConfig({
    source: "workers/webhooks/wrangler.toml",
    dir: `${TMP}/webhooks`,
    pool,
    replacements: [
      [/^name = ".+"$/m, 'name = "tenantry-webhooks-bench"'],
      // Its own queue names, for the same reason.
      [/"tenantry-billing/g, '"tenantry-billing-bench'],
    ],
  });
  ensureDevVars(`${TMP}/api/.dev.vars`);
  const stripeVars = `STRIPE_SECRET_KEY=${STRIPE_KEY}\nSTRIPE_API_BASE=http://localhost:${STRIPE_PORT}\n`;
  writeFileSync(`${TMP}/api/.dev.vars`, stripeVars, { flag: "a" });
  writeFileSync(
    `${TMP}/webhooks/.dev.vars`,
    `ENVIRONMENT=development\n${stripeVars}STRIPE_WEBHOOK_SECRET=${SECRET}\n`,
  );
  return {
    api,
    webhooks,
    port: devPortConfig(`${TMP}/port`, "tenantry-api-bench-port", "tenantry-api-bench"),
  };
}

const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });

/** POSTs one event as Stripe would: raw JSON body, `Stripe-Signature: t=…,v1=…`. */
function deliver(body) {
  const t = Math.floor(Date.now() / 1000);
  const v1 = createHmac("sha256", SECRET).update(`${t}.${body}`).digest("hex");
  return new Promise((done, fail) => {
    const req = request(
      {
        host: "127.0.0.1",
        port: PORT,
        method: "POST",
        path: "/stripe/webhook",
        agent,
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          "stripe-signature": `t=${t},v1=${v1}`,
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => {
          text += chunk;
        });
        res.on("end", () => done({ status: res.statusCode, body: text }));
      },
    );
    req.on("error", fail);
    req.end(body);
  });
}

async function ledger() {
  const res = await fetch(`http://127.0.0.1:${PORT}/_dev/ledger`);
  return (await res.json()).states;
}

async function stripeRequests(emulator) {
  const res = await fetch(`${emulator}/_emulator/requests`, {
    headers: { authorization: `Bearer ${STRIPE_KEY}` },
  });
  return (await res.json()).data;
}

/** Sign-ups, then one active `pro` subscription per tenant that only the events can reveal. */
async function seed(stripe) {
  const tokens = await signUpTenants(
    API_PORT,
    Array.from({ length: TENANTS }, (_, i) => `wh-${String(i + 1).padStart(4, "0")}`),
  );
  // Customers are created just after each sign-up answers; wait until all exist.
  let customers = [];
  for (let i = 0; i < 100 && customers.length < TENANTS; i++) {
    customers = [];
    for await (const c of stripe.customers.list({ limit: 100 })) customers.push(c);
    if (customers.length < TENANTS) await new Promise((r) => setTimeout(r, 200));
  }
  if (customers.length < TENANTS) throw new Error(`only ${customers.length} Stripe customers`);
  const price = (await stripe.prices.list({ lookup_keys: ["pro_month"] })).data[0];
  const subscriptions = [];
  for (const customer of customers) {
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: price.id }],
    });
    subscriptions.push({ customer: customer.id, subscription: sub.id });
  }
  return { tokens, subscriptions };
}

/** EVENTS bodies: unique events for random customers, DUPLICATE_SHARE of them sent twice. */
function eventBodies(subscriptions) {
  const unique = Math.round(EVENTS * (1 - DUPLICATE_SHARE));
  const created = Math.floor(Date.now() / 1000);
  const bodies = [];
  for (let i = 0; i < unique; i++) {
    const { customer, subscription } =
      subscriptions[Math.floor(Math.random() * subscriptions.length)];
    bodies.push(
      JSON.stringify({
        id: `evt_bench_${String(i).padStart(6, "0")}`,
        object: "event",
        api_version: "2026-10-28.clover",
        created,
        type: EVENT_TYPES[i % EVENT_TYPES.length],
        livemode: false,
        pending_webhooks: 1,
        request: { id: null, idempotency_key: null },
        data: { object: { id: subscription, object: "subscription", customer } },
      }),
    );
  }
  // Duplicates land anywhere after their original, as Stripe's retries do.
  for (let i = 0; i < EVENTS - unique; i++) {
    const original = Math.floor(Math.random() * unique);
    const at = original + 1 + Math.floor(Math.random() * (bodies.length - original));
    bodies.splice(at, 0, bodies[original]);
  }
  return { bodies, unique };
}

async function main() {
  const configs = writeConfigs();
  const emulator = await startStripeEmulator({ port: STRIPE_PORT });
  procs.push(emulator);
  syncStripeCatalog(emulator.url, STRIPE_KEY);
  applyControlMigrations({ config: configs.api, persistTo: STATE });
  procs.push(
    await startWorker({
      config: [configs.webhooks, configs.api],
      port: PORT,
      persistTo: STATE,
      quiet: true,
    }),
  );
  procs.push(await startWorker({ config: configs.port, port: API_PORT, quiet: true }));
  const stripe = new Stripe(STRIPE_KEY, {
    protocol: "http",
    host: "localhost",
    port: STRIPE_PORT,
  });
  log(`signing up ${TENANTS} tenants, each with a Stripe subscription`);
  const { tokens, subscriptions } = await seed(stripe);
  const { bodies, unique } = eventBodies(subscriptions);

  log(`baseline: GET /healthz on :${PORT} for ${BASELINE_SECONDS} s`);
  const baseline = await autocannon({
    url: `http://127.0.0.1:${PORT}/healthz`,
    duration: BASELINE_SECONDS,
    connections: CONNECTIONS,
  });

  const before = await stripeRequests(emulator.url);
  log(`delivering ${bodies.length} signed events (${bodies.length - unique} duplicates)`);
  const outcomes = {};
  let failures = 0;
  let next = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (next < bodies.length) {
        const res = await deliver(bodies[next++]);
        if (res.status !== 200) failures++;
        else {
          const { outcome } = JSON.parse(res.body);
          outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
        }
      }
    }),
  );
  const intakeSeconds = (Date.now() - started) / 1000;
  if (failures > 0) throw new Error(`${failures} deliveries were not accepted`);

  let states = await ledger();
  while ((states.queued ?? 0) > 0 || (states.processed ?? 0) < unique) {
    if (Date.now() - started > 600_000) throw new Error(`not drained: ${JSON.stringify(states)}`);
    await new Promise((r) => setTimeout(r, 100));
    states = await ledger();
  }
  const drainedSeconds = (Date.now() - started) / 1000;
  const after = await stripeRequests(emulator.url);
  const refetches = (after["GET /v1/subscriptions"] ?? 0) - (before["GET /v1/subscriptions"] ?? 0);

  // Every tenant's plan came from the events alone (no other webhook was delivered).
  let wrong = 0;
  for (const [slug, token] of tokens) {
    const res = await call(API_PORT, { slug, path: "/v1/billing", token });
    if (res.body?.plan !== "pro") wrong++;
  }
  if (wrong > 0) throw new Error(`${wrong} tenants did not converge to pro`);

  const intakeRate = bodies.length / intakeSeconds;
  const results = {
    date: new Date().toISOString(),
    machine: machine(),
    versions: { wrangler: require("wrangler/package.json").version },
    setup: {
      tenants: TENANTS,
      events: bodies.length,
      unique_events: unique,
      connections: CONNECTIONS,
      transport: "loopback, HTTP/1.1 keep-alive, straight to the webhooks worker",
    },
    baseline_healthz_rps: Math.round(baseline.requests.average),
    intake_events_per_second: Math.round(intakeRate),
    intake_over_baseline: Number((intakeRate / baseline.requests.average).toFixed(3)),
    intake_seconds: Number(intakeSeconds.toFixed(2)),
    drained_seconds_after_first_delivery: Number(drainedSeconds.toFixed(2)),
    drained_seconds_after_last_delivery: Number((drainedSeconds - intakeSeconds).toFixed(2)),
    outcomes,
    ledger: states,
    stripe_refetches: refetches,
    refetches_per_event: Number((refetches / bodies.length).toFixed(4)),
    tenants_converged: TENANTS - wrong,
  };
  console.log();
  printTable([
    ["measure", "value"],
    ["baseline GET /healthz (req/s)", results.baseline_healthz_rps],
    ["intake (signed events accepted/s)", results.intake_events_per_second],
    ["intake / baseline", results.intake_over_baseline.toFixed(2)],
    ["ledger fully processed after (s)", results.drained_seconds_after_first_delivery],
    ["  of which after the last delivery (s)", results.drained_seconds_after_last_delivery],
    ["Stripe re-fetches", refetches],
    ["re-fetches per event", results.refetches_per_event],
    ["tenants converged to Stripe's truth", `${results.tenants_converged}/${TENANTS}`],
  ]);
  writeResults(RESULTS, results);
}

await runBench(main, async () => {
  agent.destroy();
  await Promise.all(procs.map(stopProcess));
});
