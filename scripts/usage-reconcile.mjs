// npm run usage:reconcile [-- --port=8787]: per tenant, metric and period, compares the tenant
// meters' totals, the usage ledger and Stripe's meter event summaries on the local platform
// (`npm run dev`), after flushing every meter; prints every row, with the ledger rows Stripe
// refused for good (DEAD: rows and units), and exits 1 on any mismatch or dead-lettered usage.
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
// Dead-lettered usage stays dead: only a mismatch can still be usage in flight.
const inFlight = (r) => r.mismatches.some((row) => row.status === "mismatch");
while (inFlight(report) && Date.now() < deadline) {
  await new Promise((r) => setTimeout(r, 1000));
  report = await reconcile(false);
}
const cell = (v) => (v === null ? "-" : String(v));
const rows = [
  ["tenant", "metric", "period", "meter", "ledger", "billable", "stripe", "dead", ""],
  ...report.rows.map((r) => [
    r.tenant_id,
    r.metric,
    `${r.period_start.slice(0, 16)}…${r.period_end.slice(0, 16)}`,
    cell(r.meter),
    cell(r.ledger),
    cell(r.ledger_billable),
    cell(r.stripe),
    r.dead_rows > 0 ? `${r.dead_rows} rows, ${r.dead_billable} units` : "-",
    r.status === "ok" ? "ok" : r.status === "dead_lettered" ? "DEAD" : "MISMATCH",
  ]),
];
printTable(rows);
const dead = report.rows.filter((r) => r.status === "dead_lettered").length;
const mismatched = report.mismatches.length - dead;
console.log(
  `\n${report.rows.length} rows, ${mismatched} mismatches${mismatched ? " (after waiting for in-flight usage)" : ""}, ${dead} with dead-lettered usage${dead ? " (Stripe refused it for good: see usage_ledger.report_error)" : ""}`,
);
process.exitCode = report.mismatches.length > 0 ? 1 : 0;
