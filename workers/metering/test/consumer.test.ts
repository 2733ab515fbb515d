/**
 * The USAGE consumer: ledger and Stripe totals stay exact under redelivered messages, a consumer
 * that crashes after the ledger write and before Stripe, and a Stripe that fails 30% of meter
 * event calls (the emulator counts meter events by identifier).
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { coreConfig, stripeClient, type UsageMessage } from "@tenantry/core";
import { CATALOG } from "@tenantry/plans";
import { newId } from "@tenantry/schema";
import { describe, expect, it } from "vitest";
import { seededRandom } from "../../../packages/stripe-emulator/src/random";
import {
  type ConsumerDeps,
  consumeUsageBatch,
  reportMeterEvent,
  reportUnreported,
} from "../src/consumer";
import type { Env } from "../src/env";

const menv = env as unknown as Env;
const stripe = () => stripeClient(coreConfig(menv))!;
const HOUR = 3_600_000;

async function tenantWithCustomer() {
  const id = newId("tenant");
  const customer = await stripe().customers.create({ metadata: { tenant_id: id } });
  await menv.CONTROL_DB.prepare(
    `INSERT INTO tenants (id, slug, name, status, plan, schema_version, owner_user_id, stripe_customer_id, created_at, updated_at)
     VALUES (?1, ?1, ?1, 'active', 'pro', 1, 'usr_test', ?2, ?3, ?3)`,
  )
    .bind(id, customer.id, Date.now())
    .run();
  return { id, customer: customer.id };
}

/** Meter events Stripe stored and requests it received for one identifier. */
async function stripeCount(identifier: string): Promise<{ stored: number; received: number }> {
  const res = await fetch(`https://api.stripe.com/_emulator/meter_events/${identifier}`, {
    headers: { authorization: "Bearer sk_test_tenantry" },
  });
  return res.json();
}

async function stripeTotal(customer: string, from: number, to: number): Promise<number> {
  const meters = await stripe().billing.meters.list({ status: "active" });
  const meter = meters.data.find((m) => m.event_name === CATALOG.meters.events.eventName)!;
  const summaries = await stripe().billing.meters.listEventSummaries(meter.id, {
    customer,
    start_time: Math.floor(from / 1000),
    end_time: Math.ceil(to / 1000),
  });
  return summaries.data.reduce((sum, s) => sum + s.aggregated_value, 0);
}

interface Delivery {
  id: string;
  attempts: number;
  body: UsageMessage;
}

describe("the USAGE consumer", () => {
  it("keeps the ledger and Stripe exact under redelivery, crashes between the two, and a flaky Stripe", async () => {
    const random = seededRandom(42);
    const tenants = [await tenantWithCustomer(), await tenantWithCustomer()];
    const hour = Date.now() - (Date.now() % HOUR) - HOUR;
    const messages: UsageMessage[] = [];
    for (const tenant of tenants) {
      for (let seq = 1; seq <= 40; seq++) {
        const delta = 1 + Math.floor(random() * 50);
        messages.push({
          key: `${tenant.id}:events:${seq}`,
          tenant_id: tenant.id,
          metric: "events",
          window_start: hour,
          seq,
          delta,
          billable: seq % 4 === 0 ? 0 : Math.floor(delta / 2),
        });
      }
    }
    // Every message is delivered once, and a third of them a second time.
    let queue: Delivery[] = [];
    let n = 0;
    for (const body of messages) {
      queue.push({ id: `m${++n}`, attempts: 1, body });
      if (random() < 0.33) queue.push({ id: `m${++n}`, attempts: 1, body });
    }
    let crashes = 0;
    const deps: ConsumerDeps = {
      // Crashes after the ledger write, before Stripe hears of it.
      report: async (e, row) => {
        if (random() < 0.15) {
          crashes++;
          throw new Error("consumer crashed before reporting to Stripe");
        }
        return reportMeterEvent(e, row);
      },
    };
    for (let round = 0; queue.length > 0; round++) {
      expect(round, "the queue drains").toBeLessThan(200);
      queue.sort(() => random() - 0.5);
      const taken = queue.slice(0, 1 + Math.floor(random() * 20));
      queue = queue.slice(taken.length);
      const batch = createMessageBatch<UsageMessage>(
        "tenantry-usage",
        taken.map((d) => ({ ...d, timestamp: Date.now() })),
      );
      const ctx = createExecutionContext();
      await consumeUsageBatch(menv, batch, deps);
      const result = await getQueueResult(batch, ctx);
      const retried = new Set(result.retryMessages.map((r) => r.msgId));
      for (const d of taken) if (retried.has(d.id)) queue.push({ ...d, attempts: d.attempts + 1 });
    }
    expect(crashes).toBeGreaterThan(3);

    for (const tenant of tenants) {
      const mine = messages.filter((m) => m.tenant_id === tenant.id);
      const ledger = await menv.CONTROL_DB.prepare(
        "SELECT COUNT(*) AS rows, SUM(delta) AS delta, SUM(billable) AS billable FROM usage_ledger WHERE tenant_id = ?",
      )
        .bind(tenant.id)
        .first<{ rows: number; delta: number; billable: number }>();
      expect(ledger).toEqual({
        rows: mine.length,
        delta: mine.reduce((s, m) => s + m.delta, 0),
        billable: mine.reduce((s, m) => s + m.billable, 0),
      });
      expect(await stripeTotal(tenant.customer, hour, hour + HOUR)).toBe(ledger?.billable);
      for (const m of mine) {
        const counted = await stripeCount(m.key);
        expect(counted.stored, m.key).toBe(m.billable > 0 ? 1 : 0);
      }
    }
    const unreported = await menv.CONTROL_DB.prepare(
      "SELECT COUNT(*) AS n FROM usage_ledger WHERE billable > 0 AND reported_at IS NULL",
    ).first<{ n: number }>();
    expect(unreported?.n).toBe(0);
  });

  it("the sweep reports billable rows Stripe never confirmed, once", async () => {
    const tenant = await tenantWithCustomer();
    const key = `${tenant.id}:events:1`;
    const hour = Date.now() - (Date.now() % HOUR);
    await menv.CONTROL_DB.prepare(
      `INSERT INTO usage_ledger (key, tenant_id, metric, window_start, seq, delta, billable, created_at)
       VALUES (?, ?, 'events', ?, 1, 10, 4, ?)`,
    )
      .bind(key, tenant.id, hour, Date.now() - 20 * 60_000)
      .run();
    // Flaky Stripe: run the sweep until it reports (each attempt reuses the identifier).
    for (let i = 0; i < 10 && (await reportUnreported(menv)).reported === 0; i++);
    expect((await stripeCount(key)).stored).toBe(1);
    expect((await reportUnreported(menv)).reported).toBe(0);
    expect(await stripeTotal(tenant.customer, hour, hour + HOUR)).toBe(4);
  });

  it("dead-letters a row Stripe would refuse (older than 35 days), and the sweep goes on with the rest", async () => {
    const tenant = await tenantWithCustomer();
    const hour = Date.now() - (Date.now() % HOUR);
    const written = Date.now() - 20 * 60_000;
    // The stale row is the oldest: before the fix it headed every sweep, failing each time.
    const rows = [
      { seq: 1, window: hour - 36 * 24 * HOUR, created: written - 1000 },
      { seq: 2, window: hour, created: written },
    ];
    for (const r of rows) {
      await menv.CONTROL_DB.prepare(
        `INSERT INTO usage_ledger (key, tenant_id, metric, window_start, seq, delta, billable, created_at)
         VALUES (?, ?, 'events', ?, ?, 10, 4, ?)`,
      )
        .bind(`${tenant.id}:events:${r.seq}`, tenant.id, r.window, r.seq, r.created)
        .run();
    }
    const stale = `${tenant.id}:events:1`;
    const fresh = `${tenant.id}:events:2`;
    let dead = 0;
    for (let i = 0; i < 10; i++) {
      const report = await reportUnreported(menv);
      dead += report.dead;
      if ((await stripeCount(fresh)).stored === 1) break;
    }
    expect(dead).toBe(1);
    expect((await stripeCount(fresh)).stored).toBe(1);
    expect((await stripeCount(stale)).received).toBe(0);
    const row = await menv.CONTROL_DB.prepare(
      "SELECT reported_at, dead_at, report_error FROM usage_ledger WHERE key = ?",
    )
      .bind(stale)
      .first<{ reported_at: number | null; dead_at: number | null; report_error: string }>();
    expect(row).toMatchObject({ reported_at: null, dead_at: expect.any(Number) });
    expect(row?.report_error).toMatch(/older than the 35 days Stripe accepts/);
    // Never picked again.
    expect(await reportUnreported(menv)).toMatchObject({ reported: 0, dead: 0, failed: 0 });
  });

  it("dead-letters a row whose meter event Stripe refuses as invalid, and acknowledges its message", async () => {
    const tenant = await tenantWithCustomer();
    const hour = Date.now() - (Date.now() % HOUR);
    const body: UsageMessage = {
      key: `${tenant.id}:events:1`,
      tenant_id: tenant.id,
      metric: "events",
      window_start: hour,
      period_start: hour - 3 * 24 * HOUR,
      seq: 1,
      delta: 9,
      billable: 3,
    };
    // Stripe's own refusal, on the wire: the event reaches it stamped 36 days back.
    const deps: ConsumerDeps = {
      report: (e, row) => reportMeterEvent(e, { ...row, windowStart: hour - 36 * 24 * HOUR }),
    };
    let outcome = { dead: 0, failed: 0 };
    let acked = false;
    // The emulator fails 30% of calls with a 500 (retried); run until Stripe has answered.
    for (let i = 1; i <= 10 && outcome.dead === 0; i++) {
      const batch = createMessageBatch<UsageMessage>("tenantry-usage", [
        { id: `dead-${i}`, timestamp: new Date(), attempts: i, body },
      ]);
      const ctx = createExecutionContext();
      outcome = await consumeUsageBatch(menv, batch, deps);
      const result = await getQueueResult(batch, ctx);
      acked = result.explicitAcks.includes(`dead-${i}`);
      expect(acked).toBe(outcome.dead === 1);
    }
    expect(outcome).toMatchObject({ dead: 1, failed: 0 });
    const row = await menv.CONTROL_DB.prepare(
      "SELECT period_start, dead_at, report_error FROM usage_ledger WHERE key = ?",
    )
      .bind(body.key)
      .first<{ period_start: number; dead_at: number | null; report_error: string }>();
    expect(row).toMatchObject({ period_start: body.period_start, dead_at: expect.any(Number) });
    expect(row?.report_error).toMatch(/^Stripe refused the meter event: timestamp: /);
    // A redelivery sends nothing.
    const again = createMessageBatch<UsageMessage>("tenantry-usage", [
      { id: "dead-again", timestamp: new Date(), attempts: 1, body },
    ]);
    expect(await consumeUsageBatch(menv, again, deps)).toMatchObject({
      inserted: 0,
      reported: 0,
      dead: 0,
      failed: 0,
    });
  });

  it("logs and acknowledges a message whose body does not parse, and consumes the rest", async () => {
    const tenant = await tenantWithCustomer();
    const body: UsageMessage = {
      key: `${tenant.id}:events:1`,
      tenant_id: tenant.id,
      metric: "events",
      window_start: Date.now() - (Date.now() % HOUR),
      seq: 1,
      delta: 2,
      billable: 0,
    };
    const batch = createMessageBatch<unknown>("tenantry-usage", [
      { id: "malformed", timestamp: new Date(), attempts: 1, body: { key: "k", delta: "2" } },
      { id: "good", timestamp: new Date(), attempts: 1, body },
    ]);
    const ctx = createExecutionContext();
    const logged: string[] = [];
    const original = console.error;
    console.error = (line: string) => logged.push(line);
    try {
      expect(await consumeUsageBatch(menv, batch)).toMatchObject({ inserted: 1 });
    } finally {
      console.error = original;
    }
    expect((await getQueueResult(batch, ctx)).explicitAcks.sort()).toEqual(["good", "malformed"]);
    expect(JSON.parse(logged[0]!)).toMatchObject({
      level: "error",
      msg: "malformed usage message dropped",
      id: "malformed",
      reason: expect.stringContaining("tenant_id"),
    });
    const row = await menv.CONTROL_DB.prepare("SELECT delta FROM usage_ledger WHERE key = ?")
      .bind(body.key)
      .first<{ delta: number }>();
    expect(row?.delta).toBe(2);
  });

  it("consumes from the real queue", async () => {
    const tenant = await tenantWithCustomer();
    const body: UsageMessage = {
      key: `${tenant.id}:events:1`,
      tenant_id: tenant.id,
      metric: "events",
      window_start: Date.now() - (Date.now() % HOUR),
      seq: 1,
      delta: 3,
      billable: 0,
    };
    await env.USAGE_QUEUE.send(body);
    for (let i = 0; i < 200; i++) {
      const row = await menv.CONTROL_DB.prepare("SELECT delta FROM usage_ledger WHERE key = ?")
        .bind(body.key)
        .first<{ delta: number }>();
      if (row) {
        expect(row.delta).toBe(3);
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error("the queue consumer never wrote the ledger row");
  });
});
