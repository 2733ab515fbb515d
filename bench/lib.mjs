// Shared by the benchmarks: worker configs fitted to bench/.tmp, process control, tables.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname } from "node:path";
import autocannon from "autocannon";
import { controlSql, ensureTenant, printTable } from "../scripts/lib/platform.mjs";

export const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Stops a process started by `startWorker`/`startStripeEmulator`, waiting for it to exit. */
export function stopProcess(proc) {
  const child = proc?.child;
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const force = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.once("exit", () => {
      clearTimeout(force);
      done();
    });
    child.kill("SIGTERM");
  });
}

export function machine() {
  const cpu = cpus();
  return {
    cpu_model: cpu[0]?.model ?? "unknown",
    cpu_count: cpu.length,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

/**
 * Signs up a tenant per slug (owner `owner@<slug>.example`, password `<slug>-password`), a few
 * at a time: each sign-up is CPU-bound in the worker (PBKDF2, migrations), so more in flight
 * buys nothing. Returns the owners' access tokens by slug.
 */
export async function signUpTenants(port, slugs, { concurrency = 4, onProgress } = {}) {
  const tokens = new Map();
  let next = 0;
  let done = 0;
  const signUpNext = async () => {
    while (next < slugs.length) {
      const slug = slugs[next++];
      tokens.set(
        slug,
        await ensureTenant(port, {
          slug,
          name: slug,
          email: `owner@${slug}.example`,
          password: `${slug}-password`,
        }),
      );
      onProgress?.(++done);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, signUpNext));
  return tokens;
}

/**
 * Gives every tenant request budgets that do not bind and unlimited API calls (overrides, as an
 * operator would grant them): a benchmark measures the meter's work, not its refusals. Run it
 * while no request is in flight and before the tenants' first authenticated request (a meter
 * reads its entitlements then, and again a minute later). Idempotent.
 */
export function raiseBudgets({ config, persistTo }) {
  const big = JSON.stringify({ perSecond: 1_000_000, perMinute: 60_000_000 });
  const override = (name, body) =>
    `INSERT OR IGNORE INTO entitlement_overrides (id, tenant_id, override, expires_at, created_at)
     SELECT 'ovr_bench_${name}_' || id, id, '${body}', NULL, 0 FROM tenants;`;
  const sql = [
    ...["tenant", "apiKey", "expensive", "essential", "refused"].map((k) =>
      override(k, `{"type":"rate_limit","key":"${k}","value":${big},"reason":"benchmark"}`),
    ),
    override("calls", '{"type":"limit","key":"api_calls","value":null,"reason":"benchmark"}'),
  ];
  controlSql(sql.join("\n"), { config, persistTo });
}

/**
 * Runs a benchmark: its processes are stopped (`cleanup`) when it ends, fails or is interrupted
 * with Ctrl-C, and a failure sets the exit code.
 */
export async function runBench(main, cleanup) {
  for (const signal of ["SIGINT", "SIGTERM"]) {
    process.on(signal, async () => {
      await cleanup();
      process.exit(130);
    });
  }
  try {
    await main();
  } catch (err) {
    console.error(err);
    process.exitCode = 1;
  } finally {
    await cleanup();
  }
}

/** Writes a run's results as JSON (the benchmarks' `bench/results/*.json`). */
export function writeResults(path, results) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`results written to ${path}`);
}

/** The load of every measured scenario: interleaved rounds, each after a warm-up, medians kept. */
export const LOAD = { duration: 10, connections: 32, warmup_seconds: 3, rounds: 3 };
// USER_HZ: the unit of the CPU times in /proc on Linux.
const CLOCK_TICKS = 100;

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

/**
 * One autocannon run against `port` (Node does not resolve *.localhost: it connects to loopback
 * and names the host in `Host`); any non-2xx, error or timeout fails the bench.
 */
async function load(port, { name, host, path, headers = {} }, duration, { warmup = false } = {}) {
  const before = cpuTicks();
  const r = await autocannon({
    url: `http://127.0.0.1:${port}${path}`,
    headers: { host: host ?? `localhost:${port}`, ...headers },
    duration,
    connections: LOAD.connections,
  });
  const after = cpuTicks();
  // A warm-up shorter than a slow route's first answers may complete none: only errors count.
  if (r.non2xx + r.errors + r.timeouts > 0 || (r["2xx"] === 0 && !warmup)) {
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

/**
 * Measures `scenarios` ({ name, host?, path, headers? }) on `port` in LOAD.rounds interleaved
 * rounds (a warm-up before each); returns the medians with every round.
 */
export async function measure(port, scenarios, log = console.log) {
  const samples = scenarios.map(() => []);
  for (let round = 1; round <= LOAD.rounds; round++) {
    for (const [i, scenario] of scenarios.entries()) {
      await load(port, scenario, LOAD.warmup_seconds, { warmup: true });
      const sample = await load(port, scenario, LOAD.duration);
      samples[i].push(sample);
      const other = sample.other_cpu_pct === null ? "" : `, other CPU ${sample.other_cpu_pct}%`;
      log(`round ${round}/${LOAD.rounds} ${scenario.name}: ${sample.rps.toFixed(0)} req/s${other}`);
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

/** Prints measured runs as a table. */
export function printRuns(runs) {
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
