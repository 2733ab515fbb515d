/**
 * End to end, across real worker boundaries: the platform as `npm run dev` runs it (platform.ts).
 *
 * - usage: API → tenant meter (Durable Object) → alarm → USAGE queue → metering worker → ledger,
 *   checked by the reconciliation;
 * - billing: Stripe Checkout on the emulator → signed webhooks → webhooks worker → BILLING queue →
 *   re-sync → the API serves the new plan, without the success redirect's re-sync.
 */
import { describe, expect, inject, it } from "vitest";
import { call } from "../../scripts/lib/platform.mjs";
import { API_PORT, E2E_TENANT, eventually, WEBHOOKS_PORT } from "./platform";

interface ReconcileRow {
  tenant_id: string;
  metric: string;
  period_start: string;
  meter: number;
  ledger: number;
  status: "ok" | "dead_lettered" | "mismatch";
  ok: boolean;
}
const token = inject("e2eToken");
const { slug } = E2E_TENANT;

/** The e2e tenant's id, from its owner's access token (`tid`). */
const tenantId = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()).tid;

/**
 * The reconciliation of this file's tenant: other e2e files (the browser tests) run their own
 * tenants on the same platform, with suspensions and support sessions of their own.
 */
async function reconcile() {
  const r = await fetch(`http://localhost:${API_PORT}/_dev/usage/reconcile`, { method: "POST" });
  const body = (await r.json()) as { rows: ReconcileRow[]; mismatches: ReconcileRow[] };
  const ours = (row: ReconcileRow) => row.tenant_id === tenantId;
  return { rows: body.rows.filter(ours), mismatches: body.mismatches.filter(ours) };
}

describe("across the workers", () => {
  it("usage goes from the meter through the queue and the metering worker into the ledger", async () => {
    const at = new Date().toISOString();
    const res = await call(API_PORT, {
      slug,
      method: "POST",
      path: "/v1/usage/events",
      token,
      body: {
        events: Array.from({ length: 25 }, (_, i) => ({
          id: `e2e-${i}`,
          metric: "events",
          value: 2,
          timestamp: at,
        })),
      },
    });
    expect(res.status).toBe(200);
    expect(res.body.accepted).toBe(25);
    // Nothing is flushed by hand: the meter's alarm (every 2 s here) and the metering worker's
    // queue batches (up to 5 s) bring the ledger level with the meter.
    const report = await eventually(async () => {
      const body = await reconcile();
      const events = body.rows.find((row) => row.metric === "events");
      return events?.ledger === 50 && body.mismatches.length === 0 ? body : null;
    });
    expect(report.rows.find((row) => row.metric === "events")).toMatchObject({
      meter: 50,
      ledger: 50,
      ok: true,
    });
  });

  it("a checkout reaches the API through Stripe's webhooks alone", async () => {
    const checkout = await call(API_PORT, {
      slug,
      method: "POST",
      path: "/v1/billing/checkout",
      token,
      body: { plan: "business", interval: "month" },
    });
    expect(checkout.status).toBe(200);
    // Pay on the emulator's hosted page, as a browser would, and ignore the success redirect.
    const page = await (await fetch(checkout.body.url)).text();
    const form = page.match(/<form method="post" action="([^"]+)">([\s\S]*?)<\/form>/);
    const fields = new URLSearchParams({ action: "pay" });
    for (const m of form?.[2]?.matchAll(/<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g) ?? []) {
      if (m[1] !== "action") fields.set(m[1] as string, m[2] as string);
    }
    const paid = await fetch(new URL(form?.[1] ?? "", checkout.body.url), {
      method: "POST",
      body: fields,
      redirect: "manual",
    });
    expect(paid.status).toBe(303);
    const billing = await eventually(async () => {
      const b = await call(API_PORT, { slug, path: "/v1/billing", token });
      return b.body?.plan === "business" ? b.body : null;
    });
    expect(billing).toMatchObject({ plan: "business", status: "active", access: "full" });
    const ledger = (await (
      await fetch(`http://localhost:${WEBHOOKS_PORT}/_dev/ledger`)
    ).json()) as {
      states: Record<string, number>;
    };
    expect(ledger.states.processed).toBeGreaterThan(0);
  });

  it("usage after the first subscription counts in the anchored period, and reconciliation agrees across the move", async () => {
    // Runs after the checkout above: the tenant moved from calendar months to its billing
    // anchor, whose period overlaps the rest of the calendar month that holds the usage above.
    const calendar = (await reconcile()).rows.find((r) => r.metric === "events");
    expect(calendar).toMatchObject({ meter: 50 });
    // The meter has the anchor once an API call counts in a period other than the calendar one.
    await eventually(async () => {
      await call(API_PORT, { slug, path: "/v1/billing", token });
      return (await reconcile()).rows.some(
        (r) => r.metric === "api_calls" && r.period_start !== calendar?.period_start,
      );
    });
    const at = new Date().toISOString();
    const res = await call(API_PORT, {
      slug,
      method: "POST",
      path: "/v1/usage/events",
      token,
      body: {
        events: Array.from({ length: 10 }, (_, i) => ({
          id: `e2e-anchored-${i}`,
          metric: "events",
          value: 3,
          timestamp: at,
        })),
      },
    });
    expect(res.body.accepted).toBe(10);
    const report = await eventually(async () => {
      const body = await reconcile();
      const events = body.rows.filter((row) => row.metric === "events");
      const ledger = events.reduce((sum, row) => sum + row.ledger, 0);
      return ledger === 80 && body.mismatches.length === 0 ? body : null;
    });
    const events = report.rows.filter((row) => row.metric === "events");
    expect(events.map((row) => [row.meter, row.ledger, row.status])).toEqual([
      [50, 50, "ok"],
      [30, 30, "ok"],
    ]);
    expect(events[1]?.period_start).not.toBe(events[0]?.period_start);
  });
});
