// npm run audit:verify [-- --port=8787] [-- --no-seal]: verifies the operator audit log and every
// tenant's audit log on the local platform (`npm run dev`) against their hash chains and signed
// checkpoints (ADR 012), after sealing pending entries (`wrangler dev` runs no cron; --no-seal
// skips it). Prints one line per log and each finding; exits 1 on any finding.
import { printTable } from "./lib/platform.mjs";

const port = process.argv.find((a) => a.startsWith("--port="))?.slice(7) ?? "8787";
const seal = !process.argv.includes("--no-seal");
const url = `http://localhost:${port}/_dev/audit/verify${seal ? "?seal=1" : ""}`;

const res = await fetch(url, { method: "POST" });
if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
const report = await res.json();
const logs = [report.platform, ...report.tenants];
printTable([
  ["log", "sealed", "checkpoint", "unsealed", ""],
  ...logs.map((v) => [
    v.scope,
    String(v.sealed),
    v.checkpoint ? `${v.checkpoint.seq} @ ${new Date(v.checkpoint.signed_at).toISOString()}` : "-",
    String(v.unsealed.count),
    v.ok ? "ok" : `${v.findings.length} FINDINGS`,
  ]),
]);
const findings = logs.flatMap((v) => v.findings.map((f) => ({ scope: v.scope, ...f })));
if (findings.length > 0) {
  console.log("");
  printTable([
    ["log", "seq", "entry", "problem", "detail"],
    ...findings.map((f) => [f.scope, String(f.seq ?? "-"), f.entryId ?? "-", f.problem, f.detail]),
  ]);
}
console.log(`\n${logs.length} logs, ${findings.length} findings`);
process.exitCode = findings.length > 0 ? 1 : 0;
