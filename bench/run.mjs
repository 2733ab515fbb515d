// npm run bench: throughput of the API worker under `wrangler dev` over loopback, with the
// production-sized tenant pool (1,024 D1 bindings). See bench/README.md for what and why.
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import {
  applyControlMigrations,
  call,
  ensureDevVars,
  fittedWorkerConfig,
  printTable,
  startWorker,
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

// The helpers use paths relative to the repository root, as `npm run` does.
process.chdir(resolve(dirname(fileURLToPath(import.meta.url)), ".."));
const require = createRequire(import.meta.url);

// Not 8787, so the bench can run beside `npm run dev`.
const PORT = 8797;
const TMP = "bench/.tmp";
const STATE = `${TMP}/state`;
const RESULTS = "bench/results/latest.json";
const POOL_SIZE = 1024;
const FIRST_TENANTS = 10;
const ALL_TENANTS = 1000;
// The free plan allows 3 projects, and bench tenants are on free.
const PROJECTS = 3;
// Each sign-up is CPU-bound in the worker (PBKDF2, migrations); more in flight buys nothing.
const SIGNUP_CONCURRENCY = 4;
const LOAD = { duration: 10, connections: 32 };
const WARMUP_SECONDS = 3;
// Scenarios are measured in interleaved rounds and the median is kept: on a small shared machine
// a single 10 s run can be off by 20% or more.
const ROUNDS = 3;
const GOALS = { tenantVsBaseline: 0.5, apiKeyVsBaseline: 0.45, tenantsScaling: 0.9 };
// USER_HZ: the unit of the CPU times in /proc on Linux.
const CLOCK_TICKS = 100;

const slugOf = (n) => `bench-${String(n).padStart(4, "0")}`;
const log = (msg) => console.log(`[bench] ${msg}`);

let worker = null;

/** The real wrangler.toml with a 1,024-database pool and the bench's port; secrets beside it. */
function writeConfig() {
  rmSync(TMP, { recursive: true, force: true });
  const config = fittedWorkerConfig({
    source: WRANGLER,
    dir: TMP,
    pool: Array.from({ length: POOL_SIZE }, (_, i) => poolEntry(i + 1)),
    // BASE_DOMAIN and JWT_ISSUER carry the port: tenant hosts are `<slug>.localhost:<port>`.
    replacements: [[/\b8787\b/g, String(PORT)]],
  });
  // The same secrets and overrides as `npm run dev`, wrangler reads them beside the config; less
  // the Stripe key: the bench measures the API, and no Stripe emulator runs beside it.
  ensureDevVars(`${TMP}/.dev.vars`);
  const vars = readFileSync(`${TMP}/.dev.vars`, "utf8");
  writeFileSync(`${TMP}/.dev.vars`, vars.replace(/^STRIPE_SECRET_KEY=.*$/m, ""));
  return config;
}

function stopWorker() {
  const proc = worker;
  worker = null;
  return stopProcess(proc);
}

/** Signs up tenants `from`..`to`; returns their owners' access tokens by number. */
async function provision(from, to) {
  const started = Date.now();
  const numbers = Array.from({ length: to - from + 1 }, (_, i) => from + i);
  const bySlug = await signUpTenants(
    PORT,
    numbers.map((n) => slugOf(n)),
    {
      concurrency: SIGNUP_CONCURRENCY,
      onProgress: (done) => {
        const total = from + done - 1;
        if (total % 100 === 0 || total === to) {
          const seconds = (Date.now() - started) / 1000;
          log(`${total} tenants (${(done / seconds).toFixed(1)} sign-ups/s)`);
        }
      },
    },
  );
  const tokens = new Map(numbers.map((n) => [n, bySlug.get(slugOf(n))]));
  return { tokens, seconds: (Date.now() - started) / 1000 };
}

async function expectStatus(status, request) {
  const res = await call(PORT, request);
  if (res.status !== status) {
    throw new Error(
      `${request.method ?? "GET"} ${request.path} on ${request.slug ?? "apex"}: ` +
        `expected ${status}, got ${res.status} ${JSON.stringify(res.body)}`,
    );
  }
  return res.body;
}

/** The measured workload of a tenant: PROJECTS projects, all on the first page of the list. */
async function seedProjects(slug, token) {
  for (let i = 1; i <= PROJECTS; i++) {
    await expectStatus(201, {
      slug,
      method: "POST",
      path: "/v1/projects",
      token,
      body: { name: `Project ${i}` },
    });
  }
  const list = await expectStatus(200, { slug, path: "/v1/projects", token });
  if (list.data.length !== PROJECTS) {
    throw new Error(`${slug} lists ${list.data.length} projects, expected ${PROJECTS}`);
  }
}

/**
 * CPU ticks used by the whole machine and by this process with its descendants (autocannon,
 * wrangler, workerd), or null without Linux /proc. The difference is other processes' load,
 * which on a 2-core machine skews a run, so every run records it.
 */
function cpuTicks() {
  if (!existsSync("/proc/stat")) return null;
  const [user, nice, system, , , irq, softirq, steal] = readFileSync("/proc/stat", "utf8")
    .split("\n")[0]
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const children = new Map();
  const ticks = new Map();
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      // Fields after "(comm)": state, ppid, ..., utime (14th of the line), stime (15th).
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks.set(pid, Number(fields[11]) + Number(fields[12]));
      children.set(fields[1], [...(children.get(fields[1]) ?? []), pid]);
    } catch {} // the process exited meanwhile
  }
  let ours = 0;
  const pending = [String(process.pid)];
  while (pending.length > 0) {
    const pid = pending.pop();
    ours += ticks.get(pid) ?? 0;
    pending.push(...(children.get(pid) ?? []));
  }
  // Steal (time the hypervisor gave to other guests) is lost to the bench as well.
  return { machine: user + nice + system + irq + softirq + steal, ours };
}

/** One autocannon run; any non-2xx, error or timeout fails the bench. */
async function load({ name, slug, path, token }, duration) {
  const before = cpuTicks();
  const r = await autocannon({
    url: `http://127.0.0.1:${PORT}${path}`,
    // Node does not resolve *.localhost: connect to loopback and name the tenant in Host.
    headers: {
      host: slug ? `${slug}.localhost:${PORT}` : `localhost:${PORT}`,
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    duration,
    connections: LOAD.connections,
  });
  const after = cpuTicks();
  if (r.non2xx + r.errors + r.timeouts > 0 || r["2xx"] === 0) {
    throw new Error(
      `${name}: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts ` +
        `of ${r.requests.total} requests`,
    );
  }
  const other = after && (after.machine - before.machine - (after.ours - before.ours)) / duration;
  return {
    requests: r.requests.total,
    rps: r.requests.average,
    p50_ms: r.latency.p50,
    p99_ms: r.latency.p99,
    // Percent of one core used by processes other than the bench and its worker.
    other_cpu_pct: other === null ? null : Math.max(0, Math.round((other / CLOCK_TICKS) * 100)),
  };
}

/** Measures the scenarios in ROUNDS interleaved rounds (warm-up first); returns the medians. */
async function measure(scenarios) {
  const samples = scenarios.map(() => []);
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [i, scenario] of scenarios.entries()) {
      await load(scenario, WARMUP_SECONDS);
      const sample = await load(scenario, LOAD.duration);
      samples[i].push(sample);
      const other = sample.other_cpu_pct === null ? "" : `, other CPU ${sample.other_cpu_pct}%`;
      log(`round ${round}/${ROUNDS} ${scenario.name}: ${sample.rps.toFixed(0)} req/s${other}`);
    }
  }
  return scenarios.map(({ name }, i) => ({
    name,
    rps: median(samples[i].map((s) => s.rps)),
    p50_ms: median(samples[i].map((s) => s.p50_ms)),
    p99_ms: median(samples[i].map((s) => s.p99_ms)),
    rounds: samples[i],
  }));
}

function printRuns(runs) {
  printTable([
    ["run (median of rounds)", "req/s", "p50 ms", "p99 ms", "max other CPU"],
    ...runs.map((r) => {
      const other = r.rounds.map((s) => s.other_cpu_pct);
      return [
        r.name,
        r.rps.toFixed(0),
        String(r.p50_ms),
        String(r.p99_ms),
        other.includes(null) ? "n/a" : `${Math.max(...other)}%`,
      ];
    }),
  ]);
}

function goal(name, value, target) {
  return { name, value, target, pass: value >= target };
}

async function main() {
  const CONFIG = writeConfig();
  log(`config ${CONFIG} with ${POOL_SIZE} tenant databases; state in ${STATE}`);
  applyControlMigrations({ config: CONFIG, persistTo: STATE });
  worker = await startWorker({ config: CONFIG, port: PORT, persistTo: STATE, quiet: true });
  log(`worker up on 127.0.0.1:${PORT}`);

  const first = await provision(1, FIRST_TENANTS);
  raiseBudgets({ config: CONFIG, persistTo: STATE });
  const slug = slugOf(1);
  const token = first.tokens.get(1);
  await seedProjects(slug, token);
  const { key } = await expectStatus(201, {
    slug,
    method: "POST",
    path: "/v1/api-keys",
    token,
    body: { name: "bench", permissions: ["projects:read"] },
  });
  log(`${ROUNDS} rounds of ${LOAD.duration} s per scenario, ${LOAD.connections} connections`);
  const [healthz, jwt, apiKey] = await measure([
    { name: "a. GET /healthz (apex)", path: "/healthz" },
    {
      name: `b. GET /v1/projects, JWT, ${FIRST_TENANTS} tenants`,
      slug,
      path: "/v1/projects",
      token,
    },
    { name: `c. same, API key, ${FIRST_TENANTS} tenants`, slug, path: "/v1/projects", token: key },
  ]);
  printRuns([healthz, jwt, apiKey]);

  log(`provisioning up to ${ALL_TENANTS} tenants, ${SIGNUP_CONCURRENCY} at a time`);
  const rest = await provision(FIRST_TENANTS + 1, ALL_TENANTS);
  raiseBudgets({ config: CONFIG, persistTo: STATE });
  const lastSlug = slugOf(ALL_TENANTS);
  const lastToken = rest.tokens.get(ALL_TENANTS);
  await seedProjects(lastSlug, lastToken);
  // bench-0001 again, interleaved with bench-1000: the two share the worker's state after
  // 1,000 sign-ups, so their ratio isolates the tenant count from drift of the worker itself.
  const [jwtAtScale, jwtFirstAtScale] = await measure([
    {
      name: `b. GET /v1/projects, JWT, ${ALL_TENANTS} tenants (${lastSlug})`,
      slug: lastSlug,
      path: "/v1/projects",
      token: lastToken,
    },
    {
      name: `b. same, ${ALL_TENANTS} tenants, first tenant again (${slug})`,
      slug,
      path: "/v1/projects",
      token,
    },
  ]);

  const runs = [healthz, jwt, apiKey, jwtAtScale, jwtFirstAtScale];
  const ratio = (x, y) => Number((x.rps / y.rps).toFixed(3));
  const ratios = {
    b_over_a: ratio(jwt, healthz),
    c_over_a: ratio(apiKey, healthz),
    b_at_scale_over_b: ratio(jwtAtScale, jwt),
    // Information only: last vs first tenant measured side by side after the 1,000 sign-ups.
    last_over_first_at_scale: ratio(jwtAtScale, jwtFirstAtScale),
  };
  const goals = [
    goal("b/a: tenant request vs bare baseline", ratios.b_over_a, GOALS.tenantVsBaseline),
    goal("c/a: the same with an API key vs bare baseline", ratios.c_over_a, GOALS.apiKeyVsBaseline),
    goal(
      `b at ${ALL_TENANTS} tenants vs b at ${FIRST_TENANTS} (at most 10% slower)`,
      ratios.b_at_scale_over_b,
      GOALS.tenantsScaling,
    ),
  ];
  console.log();
  printRuns(runs);
  console.log();
  for (const [name, value] of Object.entries(ratios)) console.log(`${name}: ${value.toFixed(2)}`);
  for (const g of goals) {
    console.log(
      `${g.pass ? "PASS" : "MISS"}  ${g.name}: ${g.value.toFixed(2)} (goal ≥ ${g.target})`,
    );
  }

  const results = {
    date: new Date().toISOString(),
    machine: machine(),
    versions: {
      wrangler: require("wrangler/package.json").version,
      autocannon: require("autocannon/package.json").version,
    },
    load: {
      ...LOAD,
      warmup_seconds: WARMUP_SECONDS,
      rounds: ROUNDS,
      transport: "loopback, HTTP/1.1 keep-alive",
    },
    pool_size: POOL_SIZE,
    projects_per_tenant: PROJECTS,
    provisioning: {
      tenants: ALL_TENANTS,
      seconds: Number((first.seconds + rest.seconds).toFixed(1)),
      signup_concurrency: SIGNUP_CONCURRENCY,
    },
    runs,
    ratios,
    goals,
  };
  writeResults(RESULTS, results);
}

await runBench(main, stopWorker);
