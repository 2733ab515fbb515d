// npm run bench:saml: the CPU time of verifying one signed SAML assertion (2048-bit RSA) inside
// workerd, against the bare RSA-SHA256 verify of the same bytes in the same run, and against
// Workers' per-request CPU limits. See bench/README.md ("SAML verification").
import { spawnSync } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { machine, writeResults } from "./lib.mjs";

process.chdir(resolve(dirname(fileURLToPath(import.meta.url)), ".."));

/** Workers' CPU time per request: Free, and the Paid default (developers.cloudflare.com/workers/platform/limits). */
const CPU_LIMIT_MS = { free: 10, paid_default: 30_000 };
const RESULTS = "bench/results/saml.json";

const run = spawnSync(
  "npx",
  ["vitest", "run", "--project", "saml", "packages/saml/bench/cpu.test.ts", "--silent=false"],
  { encoding: "utf8", env: { ...process.env, SAML_CPU_BENCH: "1" } },
);
const line = `${run.stdout}\n${run.stderr}`.split("\n").find((l) => l.includes("SAML_CPU {"));
if (run.status !== 0 || !line) {
  console.error(run.stdout, run.stderr);
  console.error("[bench:saml] the measurement did not run");
  process.exit(1);
}
const m = JSON.parse(line.slice(line.indexOf("{")));
const ratio = m.verification_ms / m.rsa_verify_ms;
const share = m.verification_ms / CPU_LIMIT_MS.free;
console.table({
  "one verification (warm)": { ms: m.verification_ms.toFixed(3) },
  "first in a fresh isolate": { ms: m.first_ms.toFixed(1) },
  "bare RSA-SHA256 verify": { ms: m.rsa_verify_ms.toFixed(3) },
});
console.log(`verification / bare RSA verify: ${ratio.toFixed(1)}×`);
console.log(
  `share of the Free plan's ${CPU_LIMIT_MS.free} ms CPU limit: warm ${(share * 100).toFixed(0)}%, first ${((m.first_ms / CPU_LIMIT_MS.free) * 100).toFixed(0)}%`,
);
writeResults(RESULTS, {
  date: new Date().toISOString(),
  machine: machine(),
  ...m,
  verification_over_rsa: Number(ratio.toFixed(2)),
  cpu_limit_ms: CPU_LIMIT_MS,
});
