// npm run bench:metering: what metering and quotas cost per request, usage ingestion throughput
// for one tenant and for 100, and how Stripe calls grow. See bench/README.md.
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import {
  applyControlMigrations,
  controlSql,
  ensureDevVars,
  fittedWorkerConfig,
  printTable,
  startStripeEmulator,
  startWorker,
  syncStripeCatalog,
} from "../scripts/lib/platform.mjs";
import { poolEntry, WRANGLER } from "../scripts/pool-lib.mjs";
import {
  machine,
  median,
  raiseBudgets,
  runBench,
  signUpTenants,
  stopProcess,
  writeResults,
} from "./lib.mjs";

process.chdir(resolve(dirname(fileURLToPath(import.meta.url)), ".."));
const require = createRequire(import.meta.url);

const ON_PORT = 8807;
const OFF_PORT = 8808;
const STRIPE_PORT = 12113;
const STRIPE_KEY = "sk_test_tenantry_bench";
const TMP = "bench/.tmp/metering";
const RESULTS = "bench/results/metering.json";
const TENANTS = 100;
const FLUSH_SECONDS = 5;
const LOAD = { duration: 10, connections: 32 };
const ROUNDS = 3;
const WARMUP_SECONDS = 3;
const BATCH = 1000;
const INGEST_BATCHES = 200;
const INGEST_CONNECTIONS = 8;
const GOALS = { meteredVsUnmetered: 0.7, oneTenantEventsPerSecond: 5000 };

const log = (msg) => console.log(`[bench:metering] ${msg}`);
const procs = [];
const slug = (n) => `mt-${String(n).padStart(4, "0")}`;

/** Worker configs: metering on (with the metering worker beside it) and metering off. */
function writeConfigs() {
  rmSync(TMP, { recursive: true, force: true });
  const pool = Array.from({ length: 128 }, (_, i) => poolEntry(i + 1));
  const api = (mode, port) =>
    fittedWorkerConfig({
      source: WRANGLER,
      dir: `${TMP}/api-${mode}`,
      pool,
      replacements: [
        [/^name = ".+"$/m, `name = "tenantry-api-bench-${mode}"`],
        [/\b8787\b/g, String(port)],
        [/^METERING = ".+"$/m, `METERING = "${mode}"`],
        [/^METER_FLUSH_SECONDS = ".+"$/m, `METER_FLUSH_SECONDS = "${FLUSH_SECONDS}"`],
      ],
    });
  const on = api("on", ON_PORT);
  const off = api("off", OFF_PORT);
  const metering = fittedWorkerConfig({
    source: "workers/metering/wrangler.toml",
    dir: `${TMP}/metering`,
    replacements: [[/^name = ".+"$/m, 'name = "tenantry-metering-bench"']],
  });
  const stripeVars = `STRIPE_SECRET_KEY=${STRIPE_KEY}\nSTRIPE_API_BASE=http://localhost:${STRIPE_PORT}\n`;
  ensureDevVars(`${TMP}/api-on/.dev.vars`);
  writeFileSync(`${TMP}/api-on/.dev.vars`, stripeVars, { flag: "a" });
  ensureDevVars(`${TMP}/api-off/.dev.vars`);
  // No Stripe for the unmetered worker: it only serves b.
  const offVars = readFileSync(`${TMP}/api-off/.dev.vars`, "utf8");
  writeFileSync(`${TMP}/api-off/.dev.vars`, offVars.replace(/^STRIPE_SECRET_KEY=.*$/m, ""));
  writeFileSync(`${TMP}/metering/.dev.vars`, stripeVars);
  return { on, off, metering };
}

/**
 * Bench tenants get budgets that do not bind (`raiseBudgets`), and events billed from the first
 * one on `pro`, so every flush window of every tenant reports to Stripe.
 */
function seedSql(config, state, { pro }) {
  raiseBudgets({ config, persistTo: state });
  const sql = [
    `INSERT INTO entitlement_overrides (id, tenant_id, override, expires_at, created_at)
     SELECT 'ovr_bench_events_' || id, id, '{"type":"limit","key":"events","value":0,"hard":false,"reason":"benchmark"}', NULL, 0 FROM tenants;`,
    ...(pro
      ? [
          `INSERT INTO subscriptions (tenant_id, stripe_customer_id, status, plan, interval, current_period_end, synced_at)
           SELECT id, stripe_customer_id, 'active', 'pro', 'month', ${Date.now() + 15 * 86_400_000}, ${Date.now()}
           FROM tenants WHERE stripe_customer_id IS NOT NULL;`,
          "UPDATE tenants SET plan = 'pro';",
        ]
      : []),
  ].join("\n");
  controlSql(sql, { config, persistTo: state });
}

async function startBoth(configs) {
  const on = await startWorker({
    config: [configs.on, configs.metering],
    port: ON_PORT,
    persistTo: `${TMP}/state-on`,
    quiet: true,
  });
  const off = await startWorker({
    config: configs.off,
    port: OFF_PORT,
    persistTo: `${TMP}/state-off`,
    quiet: true,
  });
  return { on, off };
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

function post(port, slugName, token, path, body) {
  const payload = JSON.stringify(body);
  return new Promise((done, fail) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        method: "POST",
        path,
        agent,
        headers: {
          host: `${slugName}.localhost:${port}`,
          authorization: `Bearer ${token}`,
          "content-type": "application/json",
          "content-length": Buffer.byteLength(payload),
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c) => {
          text += c;
        });
        res.on("end", () => done({ status: res.statusCode, body: text }));
      },
    );
    req.on("error", fail);
    req.end(payload);
  });
}

async function load(port, slugName, token, duration = LOAD.duration) {
  const r = await autocannon({
    url: `http://127.0.0.1:${port}/v1/projects`,
    headers: { host: `${slugName}.localhost:${port}`, authorization: `Bearer ${token}` },
    duration,
    connections: LOAD.connections,
  });
  if (r.non2xx + r.errors + r.timeouts > 0) {
    throw new Error(`GET /v1/projects on :${port}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  }
  return { rps: r.requests.average, p50_ms: r.latency.p50, p99_ms: r.latency.p99 };
}

/** INGEST_BATCHES batches of BATCH events, INGEST_CONNECTIONS at a time, over `targets`. */
async function ingest(targets, prefix) {
  let next = 0;
  let accepted = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: INGEST_CONNECTIONS }, async () => {
      while (next < INGEST_BATCHES) {
        const b = next++;
        const { slug: s, token } = targets[b % targets.length];
        const at = new Date().toISOString();
        const events = Array.from({ length: BATCH }, (_, i) => ({
          id: `${prefix}-${b}-${i}`,
          metric: "events",
          value: 1,
          timestamp: at,
        }));
        const res = await post(ON_PORT, s, token, "/v1/usage/events", { events });
        if (res.status !== 200) throw new Error(`ingestion: ${res.status} ${res.body}`);
        accepted += JSON.parse(res.body).accepted;
      }
    }),
  );
  const seconds = (Date.now() - started) / 1000;
  if (accepted !== INGEST_BATCHES * BATCH) throw new Error(`only ${accepted} events accepted`);
  return { events: accepted, seconds, events_per_second: Math.round(accepted / seconds) };
}

async function stripeMeterEventCalls(url) {
  const res = await fetch(`${url}/_emulator/requests`, {
    headers: { authorization: `Bearer ${STRIPE_KEY}` },
  });
  return (await res.json()).data["POST /v1/billing/meter_events"] ?? 0;
}

/** Flushes every meter and waits until meters, ledger and Stripe agree; returns the report. */
async function reconcile() {
  const url = `http://127.0.0.1:${ON_PORT}/_dev/usage/reconcile`;
  let report = await (await fetch(`${url}?flush=1`, { method: "POST" })).json();
  const deadline = Date.now() + 120_000;
  while (report.mismatches.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1000));
    report = await (await fetch(url, { method: "POST" })).json();
  }
  return report;
}

async function main() {
  const configs = writeConfigs();
  const emulator = await startStripeEmulator({ port: STRIPE_PORT });
  procs.push(emulator);
  syncStripeCatalog(emulator.url, STRIPE_KEY);
  applyControlMigrations({ config: configs.on, persistTo: `${TMP}/state-on` });
  applyControlMigrations({ config: configs.off, persistTo: `${TMP}/state-off` });

  log(`signing up ${TENANTS} tenants (metering on) and 1 (metering off)`);
  let workers = await startBoth(configs);
  const onTokens = await signUpTenants(
    ON_PORT,
    Array.from({ length: TENANTS }, (_, i) => slug(i + 1)),
  );
  const offTokens = await signUpTenants(OFF_PORT, [slug(1)]);
  // Stripe customers are linked just after each sign-up answers.
  await new Promise((r) => setTimeout(r, 2000));
  await Promise.all([stopProcess(workers.on), stopProcess(workers.off)]);
  seedSql(configs.on, `${TMP}/state-on`, { pro: true });
  seedSql(configs.off, `${TMP}/state-off`, { pro: false });
  workers = await startBoth(configs);
  procs.push(workers.on, workers.off);

  log(`a/b: GET /v1/projects, ${ROUNDS} interleaved rounds of ${LOAD.duration} s`);
  const a = [];
  const b = [];
  for (let round = 1; round <= ROUNDS; round++) {
    await load(ON_PORT, slug(1), onTokens.get(slug(1)), WARMUP_SECONDS);
    a.push(await load(ON_PORT, slug(1), onTokens.get(slug(1))));
    await load(OFF_PORT, slug(1), offTokens.get(slug(1)), WARMUP_SECONDS);
    b.push(await load(OFF_PORT, slug(1), offTokens.get(slug(1))));
    log(`round ${round}: a ${a.at(-1).rps.toFixed(0)} req/s, b ${b.at(-1).rps.toFixed(0)} req/s`);
  }
  const aRps = median(a.map((r) => r.rps));
  const bRps = median(b.map((r) => r.rps));

  const callsBefore = await stripeMeterEventCalls(emulator.url);
  log(`ingestion: ${INGEST_BATCHES} batches of ${BATCH} events, one tenant`);
  const one = await ingest([{ slug: slug(1), token: onTokens.get(slug(1)) }], "one");
  log(`ingestion: the same spread over ${TENANTS} tenants`);
  const many = await ingest(
    [...onTokens].map(([s, token]) => ({ slug: s, token })),
    "many",
  );
  log("flushing the meters and waiting for ledger and Stripe to agree");
  const report = await reconcile();
  if (report.mismatches.length > 0) {
    throw new Error(`reconcile: ${JSON.stringify(report.mismatches.slice(0, 5))}`);
  }
  const calls = (await stripeMeterEventCalls(emulator.url)) - callsBefore;
  const events = one.events + many.events;
  const results = {
    date: new Date().toISOString(),
    machine: machine(),
    versions: { wrangler: require("wrangler/package.json").version },
    setup: { tenants: TENANTS, flush_seconds: FLUSH_SECONDS, load: LOAD, rounds: ROUNDS },
    a_metered: { rps: Math.round(aRps), rounds: a },
    b_unmetered: { rps: Math.round(bRps), rounds: b },
    a_over_b: Number((aRps / bRps).toFixed(3)),
    ingestion_one_tenant: one,
    ingestion_100_tenants: many,
    stripe: {
      meter_event_calls: calls,
      events,
      calls_per_million_events: Math.round((calls / events) * 1_000_000),
      reconciled_rows: report.rows.length,
    },
    goals: [
      {
        name: "a/b ≥ 0.7",
        value: Number((aRps / bRps).toFixed(3)),
        target: GOALS.meteredVsUnmetered,
      },
      {
        name: "one tenant ingests ≥ 5,000 events/s",
        value: one.events_per_second,
        target: GOALS.oneTenantEventsPerSecond,
      },
    ].map((g) => ({ ...g, pass: g.value >= g.target })),
  };
  console.log();
  printTable([
    ["measure", "value"],
    ["a. GET /v1/projects, metering on (req/s)", Math.round(aRps)],
    ["b. same, metering off (req/s)", Math.round(bRps)],
    ["a/b", results.a_over_b.toFixed(2)],
    ["c. ingestion, one tenant (events/s)", one.events_per_second],
    [`c. ingestion, ${TENANTS} tenants (events/s)`, many.events_per_second],
    ["d. Stripe meter event calls", calls],
    ["d. ... per 1,000,000 events", results.stripe.calls_per_million_events],
  ]);
  for (const g of results.goals) {
    console.log(`${g.pass ? "PASS" : "MISS"}  ${g.name}: ${g.value}`);
  }
  writeResults(RESULTS, results);
}

await runBench(main, async () => {
  agent.destroy();
  await Promise.all(procs.map(stopProcess));
});
