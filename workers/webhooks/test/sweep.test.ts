/**
 * The scheduled sweep: events that never arrived are backfilled from Stripe's events list, lost
 * queue messages are sent again, and tenants whose billing can change on its own are re-synced.
 */
import { describe, expect, it } from "vitest";
import { sweepBilling } from "../src/sweep";
import {
  billingRow,
  checkout,
  createTenant,
  eventually,
  ledgerRow,
  stripe,
  type TestTenant,
  wenv,
} from "./helpers";

const now = () => Math.floor(Date.now() / 1000);

async function eventsOf(tenant: TestTenant) {
  return (await stripe().events.list({ limit: 100 })).data.filter((e) =>
    JSON.stringify(e.data.object).includes(tenant.stripeCustomerId),
  );
}

describe("billing sweep", () => {
  it("backfills events that never arrived, and the consumer applies them", async () => {
    const tenant = await createTenant(now());
    await checkout(tenant, "pro_year");
    const missed = await eventsOf(tenant);
    expect(missed.length).toBeGreaterThan(1);

    const first = await sweepBilling(wenv);
    expect(first.backfilled).toBeGreaterThanOrEqual(missed.length);
    for (const event of missed) {
      expect(await ledgerRow(event.id)).toMatchObject({ source: "backfill" });
    }
    const row = await eventually(async () => {
      const r = await billingRow(tenant.id);
      return r?.status === "active" ? r : null;
    });
    expect(row).toMatchObject({ plan: "pro", interval: "year", tenant_plan: "pro" });

    // The checkpoint moved: the next run finds nothing new.
    const second = await sweepBilling(wenv);
    expect(second.backfilled).toBe(0);
    const checkpoint = await wenv.CONTROL_DB.prepare(
      "SELECT value FROM job_checkpoints WHERE name = 'stripe_events_backfill'",
    ).first<{ value: number }>();
    expect(checkpoint?.value).toBeGreaterThanOrEqual(Math.max(...missed.map((e) => e.created)));
  });

  it("re-syncs a tenant in a non-final state even without any event", async () => {
    const tenant = await createTenant(now());
    await checkout(tenant);
    // Stored state says past_due (the webhook that fixed it was lost); Stripe says active.
    await wenv.CONTROL_DB.prepare(
      `INSERT INTO subscriptions (tenant_id, stripe_customer_id, status, plan, past_due_since, synced_at)
       VALUES (?, ?, 'past_due', 'pro', ?, 1)`,
    )
      .bind(tenant.id, tenant.stripeCustomerId, Date.now())
      .run();
    const report = await sweepBilling(wenv);
    expect(report.resynced).toBeGreaterThanOrEqual(1);
    expect(await billingRow(tenant.id)).toMatchObject({ status: "active", plan: "pro" });
  });

  it("re-enqueues events whose queue message was lost, and clears failed events once in sync", async () => {
    const tenant = await createTenant(now());
    await checkout(tenant);
    const stale = Date.now() - 20 * 60_000;
    await wenv.CONTROL_DB.batch([
      wenv.CONTROL_DB.prepare(
        `INSERT INTO stripe_events (id, type, customer_id, created_at, received_at, source, state)
         VALUES ('evt_lost_message', 'invoice.paid', ?, ?, ?, 'webhook', 'queued')`,
      ).bind(tenant.stripeCustomerId, stale, stale),
      wenv.CONTROL_DB.prepare(
        `INSERT INTO stripe_events (id, type, customer_id, created_at, received_at, source, state, error)
         VALUES ('evt_dead_lettered', 'invoice.paid', ?, ?, ?, 'webhook', 'failed', 'Stripe answered 500')`,
      ).bind(tenant.stripeCustomerId, stale, stale),
    ]);
    const report = await sweepBilling(wenv);
    expect(report.requeued).toBeGreaterThanOrEqual(1);
    expect(await ledgerRow("evt_dead_lettered")).toMatchObject({
      state: "processed",
      error: "Stripe answered 500",
    });
    await eventually(async () => (await ledgerRow("evt_lost_message"))?.state === "processed");
    expect(await billingRow(tenant.id)).toMatchObject({ status: "active" });
  });
});
