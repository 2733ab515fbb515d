/**
 * The BILLING queue consumer, driven with message batches as the Queues runtime builds them:
 * coalescing per customer, retries with backoff and the ledger's record of why, the dead-letter
 * queue, each billing change audited and notified once (also across a crash), and status → access.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { recordBillingChange, retryDelaySeconds, syncTenantBilling } from "@tenantry/core";
import { describe, expect, it } from "vitest";
import { consumeBillingBatch, deadLetter } from "../src/consumer";
import type { BillingMessage } from "../src/env";
import {
  billingAudit,
  billingRow,
  checkout,
  createTenant,
  ledgerRow,
  type TestTenant,
  wenv,
} from "./helpers";

let seq = 0;
function message(tenant: TestTenant, over: Partial<BillingMessage> = {}, attempts = 1) {
  seq++;
  return {
    id: `msg-${seq}`,
    timestamp: Date.now(),
    attempts,
    body: {
      event_id: `evt_consumer_${seq}`,
      event_type: "customer.subscription.updated",
      customer_id: tenant.stripeCustomerId,
      tenant_id: tenant.id,
      received_at: Date.now(),
      ...over,
    } satisfies BillingMessage,
  };
}

async function ledgerFor(messages: { body: BillingMessage }[]) {
  for (const m of messages) {
    await wenv.CONTROL_DB.prepare(
      `INSERT INTO stripe_events (id, type, customer_id, created_at, received_at, source, state)
       VALUES (?, ?, ?, ?, ?, 'webhook', 'queued')`,
    )
      .bind(m.body.event_id, m.body.event_type, m.body.customer_id, Date.now(), m.body.received_at)
      .run();
  }
}

/** Runs the consumer on a batch; returns its outcomes and the runtime's ack/retry record. */
async function consume(
  messages: ReturnType<typeof message>[],
  deps?: Parameters<typeof consumeBillingBatch>[2],
) {
  const batch = createMessageBatch<BillingMessage>("tenantry-billing", messages);
  const ctx = createExecutionContext();
  const outcomes = await consumeBillingBatch(wenv, batch, deps);
  return { outcomes, result: await getQueueResult(batch, ctx) };
}

function countingSync() {
  const calls: string[] = [];
  const sync: typeof syncTenantBilling = async (env, tenant, ctx) => {
    calls.push(tenant.id);
    return syncTenantBilling(env, tenant, ctx);
  };
  return { calls, deps: { sync } };
}

describe("coalescing", () => {
  it("re-fetches a customer once per batch, however many of its events it holds", async () => {
    const a = await createTenant();
    const b = await createTenant();
    await checkout(a);
    const messages = [message(a), message(b), message(a), message(a), message(b)];
    await ledgerFor(messages);
    const { calls, deps } = countingSync();
    const { outcomes, result } = await consume(messages, deps);
    expect(calls.sort()).toEqual([a.id, b.id].sort());
    expect(outcomes.get(a.stripeCustomerId)).toBe("synced");
    expect(result.explicitAcks.sort()).toEqual(messages.map((m) => m.id).sort());
    for (const m of messages) {
      expect(await ledgerRow(m.body.event_id)).toMatchObject({ state: "processed", attempts: 1 });
    }
    expect(await billingRow(a.id)).toMatchObject({ plan: "pro", status: "active" });
  });

  it("does not re-fetch for events older than a sync already applied", async () => {
    const t = await createTenant();
    await checkout(t);
    const old = message(t, { received_at: Date.now() - 10_000 });
    await syncTenantBilling(wenv, t, { requestId: "test", ip: null });
    const { calls, deps } = countingSync();
    const { outcomes } = await consume([old], deps);
    expect(calls).toEqual([]);
    expect(outcomes.get(t.stripeCustomerId)).toBe("coalesced");
  });
});

describe("failures", () => {
  it("retries with backoff and records why in the ledger; other customers are unaffected", async () => {
    const bad = await createTenant();
    const good = await createTenant();
    const messages = [message(bad, {}, 3), message(good)];
    await ledgerFor(messages);
    const sync: typeof syncTenantBilling = async (env, tenant, ctx) => {
      if (tenant.id === bad.id) throw new Error("Stripe timed out");
      return syncTenantBilling(env, tenant, ctx);
    };
    const { result } = await consume(messages, { sync });
    expect(result.retryMessages.map((r) => r.msgId)).toEqual([messages[0]!.id]);
    expect(result.explicitAcks).toEqual([messages[1]!.id]);
    expect(await ledgerRow(messages[0]!.body.event_id)).toMatchObject({
      state: "queued",
      attempts: 1,
      error: "Stripe timed out",
    });
    expect([1, 2, 3, 4, 5, 6].map(retryDelaySeconds)).toEqual([5, 10, 20, 40, 80, 160]);
  });

  it("logs and acknowledges a message whose body does not parse; the rest of the batch is synced", async () => {
    const t = await createTenant();
    const good = message(t);
    await ledgerFor([good]);
    const malformed = {
      id: "msg-malformed",
      timestamp: Date.now(),
      attempts: 1,
      body: { event_id: 7 },
    };
    const batch = createMessageBatch<unknown>("tenantry-billing", [malformed, good]);
    const ctx = createExecutionContext();
    const logged: string[] = [];
    const original = console.error;
    console.error = (line: string) => logged.push(line);
    let outcomes: Map<string, string>;
    try {
      outcomes = await consumeBillingBatch(wenv, batch);
    } finally {
      console.error = original;
    }
    expect([...outcomes]).toEqual([[t.stripeCustomerId, "synced"]]);
    expect((await getQueueResult(batch, ctx)).explicitAcks.sort()).toEqual(
      [good.id, malformed.id].sort(),
    );
    expect(JSON.parse(logged[0]!)).toMatchObject({
      level: "error",
      msg: "malformed billing message dropped",
      id: malformed.id,
      reason: expect.stringContaining("customer_id"),
    });
    expect(await ledgerRow(good.body.event_id)).toMatchObject({ state: "processed" });
  });

  it("after the last retry the dead-letter consumer marks the event failed, keeping the reason", async () => {
    const t = await createTenant();
    const m = message(t, {}, 6);
    await ledgerFor([m]);
    await consume([m], {
      sync: async () => {
        throw new Error("Stripe answered 500");
      },
    });
    const batch = createMessageBatch<BillingMessage>("tenantry-billing-dlq", [m]);
    const ctx = createExecutionContext();
    await deadLetter(wenv, batch);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual([m.id]);
    expect(await ledgerRow(m.body.event_id)).toMatchObject({
      state: "failed",
      error: "Stripe answered 500",
    });
  });

  it("the dead-letter consumer never downgrades an event that was processed meanwhile", async () => {
    const t = await createTenant();
    const m = message(t);
    await ledgerFor([m]);
    await consume([m]);
    await deadLetter(wenv, createMessageBatch<BillingMessage>("tenantry-billing-dlq", [m]));
    expect(await ledgerRow(m.body.event_id)).toMatchObject({ state: "processed" });
  });
});

describe("recording changes", () => {
  it("a crash after the audit entry and before the registry update records the change once", async () => {
    const t = await createTenant();
    await checkout(t);
    // First attempt: the audit entry is written, then the worker dies before the control plane
    // is updated (played by restoring the control rows as they were).
    await syncTenantBilling(wenv, t, { requestId: "first", ip: null });
    const entry = (await billingAudit(t))[0]!;
    await wenv.CONTROL_DB.batch([
      wenv.CONTROL_DB.prepare(
        "UPDATE subscriptions SET recorded_state = NULL, pending_audit_id = ? WHERE tenant_id = ?",
      ).bind(entry.id, t.id),
      wenv.CONTROL_DB.prepare("UPDATE tenants SET plan = 'free' WHERE id = ?").bind(t.id),
    ]);
    // The retry.
    const m = message(t);
    await ledgerFor([m]);
    await consume([m]);
    const audit = await billingAudit(t);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ id: entry.id, after: { plan: "pro", status: "active" } });
    expect(await billingRow(t.id)).toMatchObject({ tenantPlan: "pro", pendingAuditId: null });
  });

  it("maps Stripe status to access, auditing every change of plan or access", async () => {
    const t = await createTenant();
    const day = 86_400_000;
    const now = Date.now();
    const cases: [string | null, number | null, string, string][] = [
      ["active", null, "pro", "full"],
      ["trialing", null, "pro", "full"],
      ["past_due", now - 2 * day, "pro", "full"],
      ["past_due", now - 8 * day, "pro", "read_only"],
      ["paused", null, "pro", "read_only"],
      ["unpaid", null, "free", "free_limits"],
      ["incomplete_expired", null, "free", "free_limits"],
      ["canceled", null, "free", "free_limits"],
    ];
    for (const [status, pastDueSince, plan, access] of cases) {
      await wenv.CONTROL_DB.prepare(
        `INSERT INTO subscriptions (tenant_id, stripe_customer_id, status, plan, past_due_since, synced_at)
         VALUES (?1, ?2, ?3, 'pro', ?4, ?5)
         ON CONFLICT (tenant_id) DO UPDATE SET status = ?3, past_due_since = ?4, synced_at = ?5`,
      )
        .bind(t.id, t.stripeCustomerId, status, pastDueSince, Date.now())
        .run();
      const row = (await billingRow(t.id))!;
      await recordBillingChange(wenv, t, row, { requestId: "test", ip: null });
      const after = await billingRow(t.id);
      expect({
        status,
        plan: after?.tenantPlan,
        access: JSON.parse(after?.recordedState ?? "null").access,
      }).toEqual({ status, plan, access });
    }
    const audit = await billingAudit(t);
    // Every case changes the status, so every case is one entry; the grace period ending is one too.
    expect(audit.map((a) => [a.after.status, a.after.access])).toEqual(
      cases.map(([status, , , access]) => [status, access]),
    );
  });

  it("a redelivered event and a parallel batch notify the plan change once (ADR 019)", async () => {
    const t = await createTenant();
    await checkout(t);
    const first = message(t);
    const again = { ...first, id: `${first.id}-redelivered`, attempts: 2 };
    const other = message(t);
    await ledgerFor([first, other]);
    await Promise.all([consume([first]), consume([other])]);
    await consume([again]);
    const db = (wenv as unknown as Record<string, D1Database>)[t.databaseBinding!]!;
    const notices = await db
      .prepare("SELECT kind, title, link FROM notifications")
      .all<Record<string, string>>();
    expect(notices.results).toEqual([
      { kind: "billing.plan_changed", title: "Plan changed to Pro", link: "/billing" },
    ]);
  });
});
