/**
 * The scheduled sweep: events that never arrived are backfilled from Stripe's events list, lost
 * queue messages are sent again, and tenants whose billing can change on its own are re-synced.
 */
import { describe, expect, it } from "vitest";
import { type BackfillBudget, sweepBilling } from "../src/sweep";
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
    expect(row).toMatchObject({ plan: "pro", interval: "year", tenantPlan: "pro" });

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

  it("re-syncs a canceled tenant whose period ended once, not on every sweep", async () => {
    // The customer's clock is in May 2026: the subscription's period ended long ago.
    const tenant = await createTenant();
    const subscription = await checkout(tenant);
    await stripe().subscriptions.cancel(subscription.id);
    await wenv.CONTROL_DB.prepare(
      `INSERT INTO subscriptions (tenant_id, stripe_customer_id, status, plan, current_period_end, synced_at)
       VALUES (?, ?, 'active', 'pro', ?, 1)`,
    )
      .bind(tenant.id, tenant.stripeCustomerId, Date.UTC(2026, 5, 1))
      .run();
    await sweepBilling(wenv);
    const synced = await billingRow(tenant.id);
    expect(synced).toMatchObject({ status: "canceled" });
    expect(synced?.currentPeriodEnd).toBeLessThan(Date.now());
    await sweepBilling(wenv);
    expect((await billingRow(tenant.id))?.syncedAt).toBe(synced?.syncedAt);
  });

  it("a large backfill finishes across several runs, each within its page budget, from a saved cursor", async () => {
    const budget: BackfillBudget = { pageSize: 5, maxPages: 2, maxMs: 60_000 };
    const sweep = () => sweepBilling(wenv, Date.now(), budget);
    // The previous run ended just now (the checkpoint less its 5-minute overlap): the next run
    // lists what follows, here and in the test files running beside this one.
    await wenv.CONTROL_DB.prepare(
      `INSERT INTO job_checkpoints (name, value, cursor, updated_at)
       VALUES ('stripe_events_backfill', ?1, NULL, ?2)
       ON CONFLICT (name) DO UPDATE SET value = ?1, cursor = NULL, updated_at = ?2`,
    )
      .bind(now() - 1 + 300, Date.now())
      .run();
    const created = await Promise.all(
      Array.from({ length: 23 }, () => stripe().customers.create({ name: "backfill" })),
    );
    const mine = (await stripe().events.list({ type: "customer.created", limit: 100 })).data.filter(
      (e) => created.some((c) => c.id === (e.data.object as { id: string }).id),
    );
    expect(mine).toHaveLength(23);

    const runs: { backfilled: number; cursor: string | null }[] = [];
    for (let pending = true; pending; ) {
      expect(runs.length, "the backfill finishes").toBeLessThan(100);
      const report = await sweep();
      const checkpoint = await wenv.CONTROL_DB.prepare(
        "SELECT cursor FROM job_checkpoints WHERE name = 'stripe_events_backfill'",
      ).first<{ cursor: string | null }>();
      runs.push({ backfilled: report.backfilled, cursor: checkpoint?.cursor ?? null });
      pending = report.backfillPending;
    }
    expect(runs.length).toBeGreaterThanOrEqual(3);
    for (const run of runs) expect(run.backfilled).toBeLessThanOrEqual(10);
    // Every run but the last left a cursor for the next; the last one cleared it.
    expect(runs.slice(0, -1).every((r) => r.cursor !== null)).toBe(true);
    expect(runs.at(-1)?.cursor).toBeNull();
    expect(runs.reduce((sum, r) => sum + r.backfilled, 0)).toBeGreaterThanOrEqual(mine.length);
    for (const event of mine) {
      expect(await ledgerRow(event.id)).toMatchObject({ source: "backfill" });
    }
    // The checkpoint is at the top: the last run's upper bound, past every event listed.
    const { value } = (await wenv.CONTROL_DB.prepare(
      "SELECT value FROM job_checkpoints WHERE name = 'stripe_events_backfill'",
    ).first<{ value: number }>()) as { value: number };
    expect(value).toBeGreaterThanOrEqual(Math.max(...mine.map((e) => e.created)));
    const last = runs.at(-2)?.cursor;
    expect(value).toBe(JSON.parse(last as string).until);
    expect((await sweep()).backfilled).toBe(0);
  });
});
