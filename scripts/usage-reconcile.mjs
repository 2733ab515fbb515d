// npm run usage:reconcile [-- --port=8787]: per tenant, metric and period, compares the tenant
// meters' totals, the usage ledger and Stripe's meter event summaries on the local platform
// (`npm run dev`), after flushing every meter; prints every row and exits 1 on any mismatch.
import { printTable } from "./lib/platform.mjs";

const port = process.argv.find((a) => a.startsWith("--port="))?.slice(7) ?? "8787";
const url = `http://localhost:${port}/_dev/usage/reconcile`;
// The metering worker's batches wait up to 5 s; allow the flushed usage that long to land.
const SETTLE_MS = 30_000;

async function reconcile(flush) {
  const res = await fetch(flush ? `${url}?flush=1` : url, { method: "POST" });
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return res.json();
}

let report = await reconcile(true);
const deadline = Date.now() + SETTLE_MS;
while (report.mismatches.length > 0 && Date.now() < deadline) {
  await new Promise((r) => setTimeout(r, 1000));
  report = await reconcile(false);
}
const cell = (v) => (v === null ? "-" : String(v));
const rows = [
  ["tenant", "metric", "period", "meter", "ledger", "billable", "stripe", ""],
  ...report.rows.map((r) => [
    r.tenant_id,
    r.metric,
    `${r.period_start.slice(0, 16)}…${r.period_end.slice(0, 16)}`,
    cell(r.meter),
    cell(r.ledger),
    cell(r.ledger_billable),
    cell(r.stripe),
    r.ok ? "ok" : "MISMATCH",
  ]),
];
printTable(rows);
console.log(
  `\n${report.rows.length} rows, ${report.mismatches.length} mismatches${report.mismatches.length ? " (after waiting for in-flight usage)" : ""}`,
);
process.exitCode = report.mismatches.length > 0 ? 1 : 0;
