// Shared by the benchmarks: worker configs fitted to bench/.tmp, process control, tables.
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname } from "node:path";
import { controlSql, ensureTenant } from "../scripts/lib/platform.mjs";

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
