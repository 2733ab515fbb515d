// npm run bench: throughput of the API worker under `wrangler dev` over loopback, with the
// production-sized tenant pool (1,024 D1 bindings). See bench/README.md for what and why.
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  applyControlMigrations,
  buildTenantApp,
  call,
  devRouterConfig,
  ensureDevVars,
  fittedTenantConfig,
  fittedWorkerConfig,
  startWorker,
  tenantSignInCookie,
} from "../scripts/lib/platform.mjs";
import { poolEntry, WRANGLER } from "../scripts/pool-lib.mjs";
import {
  LOAD,
  machine,
  measure,
  printRuns,
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
const GOALS = { tenantVsBaseline: 0.5, apiKeyVsBaseline: 0.45, tenantsScaling: 0.9 };

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

/** `GET /v1/projects` on `slug`'s host with `credential`. */
function tenantScenario(name, slug, credential) {
  return {
    name,
    host: `${slug}.localhost:${PORT}`,
    path: "/v1/projects",
    headers: { authorization: `Bearer ${credential}` },
  };
}

/**
 * The tenant app's dashboard, signed in, as a browser reaches it: the worker restarts with the
 * development router and the tenant app beside the API (same state), and the bare baseline is
 * measured again through the router in the same run.
 */
async function measureDashboard(config, slug) {
  await stopWorker();
  buildTenantApp();
  const tenant = fittedTenantConfig({
    dir: `${TMP}/tenant`,
    name: "tenantry-tenant-bench",
    apiName: "tenantry-api",
  });
  const router = devRouterConfig(`${TMP}/router`, "tenantry-dev-router-bench", {
    api: "tenantry-api",
    tenant: "tenantry-tenant-bench",
  });
  worker = await startWorker({
    config: [router, config, tenant],
    port: PORT,
    persistTo: STATE,
    quiet: true,
  });
  log("router, API and tenant app up: measuring the dashboard page");
  const cookie = await tenantSignInCookie(PORT, {
    slug,
    email: `owner@${slug}.example`,
    password: `${slug}-password`,
  });
  return measure(
    PORT,
    [
      { name: "a. GET /healthz (apex), through the router", path: "/healthz" },
      {
        name: `d. GET / (tenant app dashboard, signed in, ${slug})`,
        host: `${slug}.localhost:${PORT}`,
        path: "/",
        headers: { cookie },
      },
    ],
    log,
  );
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
  log(`${LOAD.rounds} rounds of ${LOAD.duration} s per scenario, ${LOAD.connections} connections`);
  const [healthz, jwt, apiKey] = await measure(
    PORT,
    [
      { name: "a. GET /healthz (apex)", path: "/healthz" },
      tenantScenario(`b. GET /v1/projects, JWT, ${FIRST_TENANTS} tenants`, slug, token),
      tenantScenario(`c. same, API key, ${FIRST_TENANTS} tenants`, slug, key),
    ],
    log,
  );
  printRuns([healthz, jwt, apiKey]);

  log(`provisioning up to ${ALL_TENANTS} tenants, ${SIGNUP_CONCURRENCY} at a time`);
  const rest = await provision(FIRST_TENANTS + 1, ALL_TENANTS);
  raiseBudgets({ config: CONFIG, persistTo: STATE });
  const lastSlug = slugOf(ALL_TENANTS);
  const lastToken = rest.tokens.get(ALL_TENANTS);
  await seedProjects(lastSlug, lastToken);
  // bench-0001 again, interleaved with bench-1000: the two share the worker's state after
  // 1,000 sign-ups, so their ratio isolates the tenant count from drift of the worker itself.
  const [jwtAtScale, jwtFirstAtScale] = await measure(
    PORT,
    [
      tenantScenario(
        `b. GET /v1/projects, JWT, ${ALL_TENANTS} tenants (${lastSlug})`,
        lastSlug,
        lastToken,
      ),
      tenantScenario(`b. same, ${ALL_TENANTS} tenants, first tenant again (${slug})`, slug, token),
    ],
    log,
  );

  const [routedHealthz, dashboard] = await measureDashboard(CONFIG, slug);

  const runs = [healthz, jwt, apiKey, jwtAtScale, jwtFirstAtScale, routedHealthz, dashboard];
  const ratio = (x, y) => Number((x.rps / y.rps).toFixed(3));
  const ratios = {
    b_over_a: ratio(jwt, healthz),
    c_over_a: ratio(apiKey, healthz),
    b_at_scale_over_b: ratio(jwtAtScale, jwt),
    // Information only: last vs first tenant measured side by side after the 1,000 sign-ups.
    last_over_first_at_scale: ratio(jwtAtScale, jwtFirstAtScale),
    // The page: every API call it makes (through the service binding) and its render.
    dashboard_over_a: ratio(dashboard, routedHealthz),
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
