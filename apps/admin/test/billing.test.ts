/**
 * Billing operations: the Stripe event ledger (platform-wide and per tenant, cursor pages, failed
 * events with their reasons), audited re-sync and replay through the BILLING queue, and the
 * usage reconcile with mismatches apart.
 */
import { createMessageBatch } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { type BillingMessage, BillingMessageSchema } from "@tenantry/core";
import { describe, expect, it } from "vitest";
import { api, createTenant, type TestTenant } from "../../../workers/api/test/helpers";
import { consumeBillingBatch } from "../../../workers/webhooks/src/consumer";
import type { Env as WebhooksEnv } from "../../../workers/webhooks/src/env";
import type { LedgerEvent, LedgerPage } from "../server/services/billing";
import { adminFetch, operatorWithToken } from "./helpers";

let seq = 0;
/** A ledger row as the webhook intake and the dead-letter consumer leave it. */
async function ledgerEvent(t: TestTenant, state: string, error: string | null = null) {
  seq++;
  const id = `evt_admin_${seq}_${Math.random().toString(36).slice(2, 8)}`;
  await env.CONTROL_DB.prepare(
    `INSERT INTO stripe_events (id, type, customer_id, tenant_id, created_at, received_at, source, state, attempts, error)
     VALUES (?, 'customer.subscription.updated', ?, ?, ?, ?, 'webhook', ?, ?, ?)`,
  )
    .bind(
      id,
      t.tenant.stripeCustomerId ?? `cus_missing_${seq}`,
      t.tenant.id,
      Date.now(),
      Date.now() + seq,
      state,
      state === "failed" ? 6 : 1,
      error,
    )
    .run();
  return id;
}

async function audits(action: string, targetId: string) {
  const r = await env.CONTROL_DB.prepare(
    "SELECT id, reason, before, after FROM platform_audit_log WHERE action = ? AND target_id = ?",
  )
    .bind(action, targetId)
    .all<{ id: string; reason: string; before: string | null; after: string | null }>();
  return r.results;
}

async function ledgerRow(id: string) {
  return env.CONTROL_DB.prepare("SELECT * FROM stripe_events WHERE id = ?").bind(id).first<{
    state: string;
    source: string;
    tenant_id: string;
    replay_audit_id: string | null;
    error: string | null;
  }>();
}

/** The tenant's Stripe customer, linked by the sign-up's tail. */
async function customerOf(t: TestTenant): Promise<string> {
  for (let i = 0; i < 50; i++) {
    const row = await env.CONTROL_DB.prepare(
      "SELECT stripe_customer_id AS c FROM tenants WHERE id = ?",
    )
      .bind(t.tenant.id)
      .first<{ c: string | null }>();
    if (row?.c) return row.c;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("no Stripe customer linked");
}

const post = (path: string, token: string, reason = "customer asked") =>
  adminFetch(path, { method: "POST", token, body: JSON.stringify({ reason }) });

describe("the Stripe event ledger", () => {
  it("pages platform-wide and per tenant, newest first, with failed events' reasons", async () => {
    const reader = await operatorWithToken("read_only");
    const [a, b] = [await createTenant(), await createTenant()];
    const ids = [
      await ledgerEvent(a, "processed"),
      await ledgerEvent(b, "failed", "Stripe said 500"),
      await ledgerEvent(a, "queued", "timeout; retrying"),
      await ledgerEvent(a, "failed", "no such customer"),
    ];
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
      const res = await adminFetch(`/api/v1/billing/events?limit=3${q}`, { token: reader.token });
      expect(res.status).toBe(200);
      const page = (await res.json()) as LedgerPage;
      seen.push(...page.data.map((e) => e.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen.filter((id) => ids.includes(id))).toEqual([...ids].reverse());

    const mine = (await (
      await adminFetch(`/api/v1/billing/events?tenant_id=${a.tenant.id}`, { token: reader.token })
    ).json()) as LedgerPage;
    expect(mine.data.map((e) => e.id)).toEqual([ids[3], ids[2], ids[0]]);

    const failed = (await (
      await adminFetch("/api/v1/billing/events?state=failed", { token: reader.token })
    ).json()) as LedgerPage;
    expect(failed.data.map((e) => [e.id, e.error])).toEqual([
      [ids[3], "no such customer"],
      [ids[1], "Stripe said 500"],
    ]);
    const retrying = (await (
      await adminFetch("/api/v1/billing/events?state=retrying", { token: reader.token })
    ).json()) as LedgerPage;
    expect(retrying.data.map((e) => e.id)).toEqual([ids[2]]);
    expect(
      (await adminFetch("/api/v1/billing/events?cursor=nonsense", { token: reader.token })).status,
    ).toBe(400);
  });
});

describe("replay and re-sync", () => {
  it("replays a failed event once: parallel replays queue it once, with one audit entry", async () => {
    const ops = await operatorWithToken("billing");
    const t = await createTenant();
    const id = await ledgerEvent(t, "failed", "retries exhausted");
    const answers = await Promise.all([
      post(`/api/v1/billing/events/${id}/replay`, ops.token),
      post(`/api/v1/billing/events/${id}/replay`, ops.token),
      post(`/api/v1/billing/events/${id}/replay`, ops.token),
    ]);
    expect(answers.map((a) => a.status).sort()).toEqual([202, 409, 409]);
    await Promise.all(answers.map((a) => a.json()));
    const entries = await audits("billing.replay", id);
    expect(entries).toHaveLength(1);
    expect(JSON.parse(entries[0]!.before!)).toMatchObject({
      state: "failed",
      error: "retries exhausted",
    });
    expect(await ledgerRow(id)).toMatchObject({ state: "queued", replay_audit_id: entries[0]!.id });
    // Not failed any more: nothing to replay.
    expect((await post(`/api/v1/billing/events/${id}/replay`, ops.token)).status).toBe(409);
    const processed = await ledgerEvent(t, "processed");
    expect((await post(`/api/v1/billing/events/${processed}/replay`, ops.token)).status).toBe(409);
    expect((await post("/api/v1/billing/events/evt_nope/replay", ops.token)).status).toBe(404);
  });

  it("re-syncs a tenant through the queue: recorded in the ledger, audited, then processed", async () => {
    const ops = await operatorWithToken("billing");
    const t = await createTenant();
    const customer = await customerOf(t);
    const res = await post(`/api/v1/tenants/${t.tenant.id}/billing/resync`, ops.token);
    expect(res.status).toBe(202);
    const { event } = (await res.json()) as { event: LedgerEvent };
    expect(event).toMatchObject({ source: "operator", state: "queued", tenantId: t.tenant.id });
    expect(await audits("billing.resync", t.tenant.id)).toHaveLength(1);

    // The webhooks worker's consumer takes the hint as it takes a webhook's.
    const body: BillingMessage = BillingMessageSchema.parse({
      event_id: event.id,
      event_type: event.type,
      customer_id: customer,
      tenant_id: t.tenant.id,
      received_at: Date.now(),
    });
    const batch = createMessageBatch<BillingMessage>("tenantry-billing", [
      { id: "m1", timestamp: new Date(), attempts: 1, body },
    ]);
    await consumeBillingBatch(env as unknown as WebhooksEnv, batch);
    expect(await ledgerRow(event.id)).toMatchObject({ state: "processed", error: null });
  });

  it("keeps re-sync and replay to billing operators", async () => {
    const reader = await operatorWithToken("read_only");
    const support = await operatorWithToken("support");
    const t = await createTenant();
    const id = await ledgerEvent(t, "failed", "x");
    for (const op of [reader, support]) {
      expect((await post(`/api/v1/billing/events/${id}/replay`, op.token)).status).toBe(403);
      expect((await post(`/api/v1/tenants/${t.tenant.id}/billing/resync`, op.token)).status).toBe(
        403,
      );
    }
    expect(await ledgerRow(id)).toMatchObject({ state: "failed" });
  });
});

describe("usage reconcile", () => {
  it("lists a tenant's meters against the ledger and marks a mismatch", async () => {
    const reader = await operatorWithToken("read_only");
    const t = await createTenant();
    const created = await api("POST", "/v1/projects", {
      slug: t.slug,
      token: t.owner.token,
      body: { name: "counted" },
    });
    expect(created.status).toBe(201);
    const url = `/api/v1/billing/reconcile?tenant_id=${t.tenant.id}`;
    type Report = {
      rows: { metric: string; period_start: string; status: string }[];
      mismatches: { metric: string; status: string; tenant_id: string }[];
    };
    const reconcile = async () =>
      (await (await adminFetch(url, { token: reader.token })).json()) as Report;
    // The meter counts the request after answering it (in the request's tail).
    let first = await reconcile();
    for (let i = 0; i < 40 && first.rows.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      first = await reconcile();
    }
    expect(first.rows.length).toBeGreaterThan(0);
    const row = first.rows[0]!;
    // Usage the meter never counted: the ledger disagrees with it.
    const start = Date.parse(row.period_start);
    await env.CONTROL_DB.prepare(
      `INSERT INTO usage_ledger (key, tenant_id, metric, window_start, period_start, seq, delta, billable, created_at)
       VALUES (?, ?, ?, ?, ?, 999999, 5, 0, ?)`,
    )
      .bind(
        `${t.tenant.id}:${row.metric}:999999`,
        t.tenant.id,
        row.metric,
        start,
        start,
        Date.now(),
      )
      .run();
    const second = await reconcile();
    expect(second.mismatches).toContainEqual(
      expect.objectContaining({ tenant_id: t.tenant.id, metric: row.metric, status: "mismatch" }),
    );
  });
});
