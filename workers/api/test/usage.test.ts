/**
 * Usage ingestion (POST /v1/usage/events) and the usage series (GET /v1/usage): per-event
 * outcomes, duplicates within and across batches, bad events mixed with good ones, hard limits,
 * and a series that counts flushed and unflushed usage exactly once.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { meterFor } from "@tenantry/core";
import { addMonths } from "@tenantry/plans";
import { describe, expect, it } from "vitest";
import { addOverride, api, createApiKey, createTenant, expectProblem } from "./helpers";

const iso = (ms: number) => new Date(ms).toISOString();
const HOUR = 3_600_000;

describe("POST /v1/usage/events", () => {
  it("answers per event: accepted, duplicate (within and across batches), or rejected with a reason", async () => {
    const t = await createTenant();
    const { key } = await createApiKey(t, ["usage:write", "usage:read"]);
    const as = { slug: t.slug, token: key };
    const now = Date.now();
    const events = [
      { id: "a", metric: "events", value: 5, timestamp: iso(now) },
      { id: "b", metric: "events", value: 3, timestamp: Math.floor(now / 1000) - 60 },
      { id: "a", metric: "events", value: 5, timestamp: iso(now) },
      { id: "c", metric: "widgets", value: 1, timestamp: iso(now) },
      { id: "d", metric: "events", value: -1, timestamp: iso(now) },
      { id: "e", metric: "events", value: 1.5, timestamp: iso(now) },
      { id: "f", metric: "events", value: 1, timestamp: iso(now - 36 * 24 * HOUR) },
      { id: "g", metric: "events", value: 1, timestamp: iso(now + 10 * 60_000) },
      { id: "h", metric: "events", value: 1, timestamp: "yesterday" },
      { id: "i", metric: "api_calls", value: 1, timestamp: iso(now) },
    ];
    const res = await api("POST", "/v1/usage/events", { ...as, body: { events } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.results.map((r: any) => [r.id, r.status, r.reason ?? null])).toEqual([
      ["a", "accepted", null],
      ["b", "accepted", null],
      ["a", "duplicate", null],
      ["c", "rejected", "unknown_metric"],
      ["d", "rejected", "invalid_value"],
      ["e", "rejected", "invalid_value"],
      ["f", "rejected", "timestamp_too_old"],
      ["g", "rejected", "timestamp_in_future"],
      ["h", "rejected", "invalid_timestamp"],
      ["i", "rejected", "unknown_metric"],
    ]);
    expect(res.body).toMatchObject({ accepted: 2, duplicates: 1, rejected: 7 });

    // A retry of the same batch changes nothing.
    const retry = await api("POST", "/v1/usage/events", { ...as, body: { events } });
    expect(retry.body).toMatchObject({ accepted: 0, duplicates: 3, rejected: 7 });
    const usage = await api("GET", "/v1/usage?metric=events&granularity=day", as);
    expect(usage.body.total).toBe(8);
    // No subscription: the quota period is the calendar month, and the meter counted the 8.
    const today = new Date();
    const month = (m: number) => new Date(Date.UTC(today.getUTCFullYear(), m, 1)).toISOString();
    expect(usage.body.period).toEqual({
      start: month(today.getUTCMonth()),
      end: month(today.getUTCMonth() + 1),
      used: 8,
    });
  });

  it("refuses usage that Stripe would refuse by the time it is reported (35 days, less a day for delivery)", async () => {
    const t = await createTenant();
    const now = Date.now();
    const events = [
      { id: "edge", metric: "events", value: 1, timestamp: iso(now - 34 * 24 * HOUR - 60_000) },
      { id: "inside", metric: "events", value: 1, timestamp: iso(now - 33 * 24 * HOUR) },
    ];
    const res = await api("POST", "/v1/usage/events", {
      slug: t.slug,
      token: t.owner.token,
      body: { events },
    });
    expect(res.body.results).toEqual([
      {
        id: "edge",
        status: "rejected",
        reason: "timestamp_too_old",
        detail:
          "older than 34 days (Stripe refuses usage older than 35 days; a day is kept for delivery)",
      },
      { id: "inside", status: "accepted" },
    ]);
  });

  it("refuses events over a hard limit, and counts the rest", async () => {
    const t = await createTenant();
    await addOverride(t, { type: "limit", key: "events", value: 10, hard: true, reason: "test" });
    const res = await api("POST", "/v1/usage/events", {
      slug: t.slug,
      token: t.owner.token,
      body: {
        events: [
          { id: "1", metric: "events", value: 6, timestamp: iso(Date.now()) },
          { id: "2", metric: "events", value: 6, timestamp: iso(Date.now()) },
          { id: "3", metric: "events", value: 4, timestamp: iso(Date.now()) },
        ],
      },
    });
    expect(res.body.results.map((r: any) => r.status)).toEqual([
      "accepted",
      "rejected",
      "accepted",
    ]);
    expect(res.body.results[1]).toMatchObject({ reason: "over_limit" });
    // A refused event is checked again on a retry (it may fit later).
    await addOverride(t, { type: "limit", key: "events", value: 20, hard: true, reason: "raised" });
    await meterFor(env.TENANT_METER, t.tenant.id).refresh(t.tenant.id);
    const retry = await api("POST", "/v1/usage/events", {
      slug: t.slug,
      token: t.owner.token,
      body: { events: [{ id: "2", metric: "events", value: 6, timestamp: iso(Date.now()) }] },
    });
    expect(retry.body.results[0].status).toBe("accepted");
  });

  it("takes at most 1,000 events per request, and bodies up to 1 MB", async () => {
    const t = await createTenant();
    const event = (i: number) => ({
      id: `evt-${i}`,
      metric: "events",
      value: 1,
      timestamp: iso(Date.now()),
    });
    const full = await api("POST", "/v1/usage/events", {
      slug: t.slug,
      token: t.owner.token,
      body: { events: Array.from({ length: 1000 }, (_, i) => event(i)) },
    });
    expect(full.body.accepted).toBe(1000);
    const over = await api("POST", "/v1/usage/events", {
      slug: t.slug,
      token: t.owner.token,
      body: { events: Array.from({ length: 1001 }, (_, i) => event(i)) },
    });
    expectProblem(over, 400, "invalid_request");
  });
});

describe("GET /v1/usage", () => {
  it("includes what the meter has not flushed, and counts flushed usage once", async () => {
    const t = await createTenant();
    const as = { slug: t.slug, token: t.owner.token };
    const now = Date.now();
    const thisHour = now - (now % HOUR);
    await api("POST", "/v1/usage/events", {
      ...as,
      body: {
        events: [
          { id: "x1", metric: "events", value: 10, timestamp: iso(now) },
          { id: "x2", metric: "events", value: 5, timestamp: iso(now - 2 * HOUR) },
        ],
      },
    });
    const hourly = `/v1/usage?metric=events&granularity=hour&from=${iso(now - 3 * HOUR)}&to=${iso(now + 1)}`;
    const before = await api("GET", hourly, as);
    expect(before.body.data).toEqual([
      { start: iso(thisHour - 2 * HOUR), value: 5 },
      { start: iso(thisHour), value: 10 },
    ]);

    // The alarm flushes to the outbox and the queue; then the metering worker writes the ledger
    // (played here by inserting what it would): the series must not count both.
    const meter = meterFor(env.TENANT_METER, t.tenant.id);
    expect(await runDurableObjectAlarm(meter)).toBe(true);
    const sent = await api("GET", hourly, as);
    expect(sent.body.total).toBe(15);
    const outbox = await runInDurableObject(meter, (_, state) =>
      state.storage.sql
        .exec<{ key: string; seq: number; window_start: number; delta: number }>(
          "SELECT key, seq, window_start, delta FROM outbox WHERE metric = 'events'",
        )
        .toArray(),
    );
    expect(outbox.map((o) => o.key)).toEqual(outbox.map((o) => `${t.tenant.id}:events:${o.seq}`));
    for (const row of outbox) {
      await env.CONTROL_DB.prepare(
        `INSERT INTO usage_ledger (key, tenant_id, metric, window_start, seq, delta, billable, created_at)
         VALUES (?, ?, 'events', ?, ?, ?, 0, ?)`,
      )
        .bind(row.key, t.tenant.id, row.window_start, row.seq, row.delta, Date.now())
        .run();
    }
    const after = await api("GET", hourly, as);
    expect(after.body.data).toEqual(before.body.data);
    const daily = await api("GET", "/v1/usage?metric=events", as);
    expect(daily.body).toMatchObject({ metric: "events", granularity: "day", total: 15 });
  });

  it("counts API calls too, and refuses metrics that are not counters", async () => {
    const t = await createTenant();
    const as = { slug: t.slug, token: t.owner.token };
    await api("GET", "/v1/me", as);
    const calls = await api("GET", "/v1/usage?metric=api_calls", as);
    // This request and the one before it.
    expect(calls.body.total).toBeGreaterThanOrEqual(1);
    expect(calls.body.period.used).toBeGreaterThanOrEqual(1);
    expectProblem(await api("GET", "/v1/usage?metric=seats", as), 400, "invalid_request");
    expectProblem(
      await api("GET", `/v1/usage?metric=events&from=${iso(Date.now())}&to=${iso(0)}`, as),
      400,
      "invalid_request",
    );
  });
});

describe("usage reconciliation", () => {
  it("reports a meter total the ledger lacks, and agrees once the ledger has it", async () => {
    const t = await createTenant();
    const as = { slug: t.slug, token: t.owner.token };
    await api("POST", "/v1/usage/events", {
      ...as,
      body: { events: [{ id: "r1", metric: "events", value: 12, timestamp: iso(Date.now()) }] },
    });
    const mine = (rows: any[]) => rows.filter((r) => r.tenant_id === t.tenant.id);
    // Flushed to the queue, but no metering worker runs in these tests: the ledger lacks it.
    const before = await api("POST", "/_dev/usage/reconcile?flush=1");
    const events = mine(before.body.mismatches).find((r: any) => r.metric === "events");
    expect(events).toMatchObject({ meter: 12, ledger: 0, ok: false });

    // What the metering worker would write, from the meter's outbox.
    const outbox = await runInDurableObject(meterFor(env.TENANT_METER, t.tenant.id), (_, state) =>
      state.storage.sql
        .exec<{
          key: string;
          seq: number;
          metric: string;
          window_start: number;
          delta: number;
          billable: number;
        }>("SELECT key, seq, metric, window_start, delta, billable FROM outbox")
        .toArray(),
    );
    for (const row of outbox) {
      await env.CONTROL_DB.prepare(
        `INSERT INTO usage_ledger (key, tenant_id, metric, window_start, seq, delta, billable, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
        .bind(
          row.key,
          t.tenant.id,
          row.metric,
          row.window_start,
          row.seq,
          row.delta,
          row.billable,
          Date.now(),
        )
        .run();
    }
    const after = await api("POST", "/_dev/usage/reconcile");
    const rows = mine(after.body.rows);
    expect(rows.find((r: any) => r.metric === "events")).toMatchObject({
      meter: 12,
      ledger: 12,
      ok: true,
    });
    // API calls are reconciled too: the meter counted the ingestion request.
    expect(rows.find((r: any) => r.metric === "api_calls")).toMatchObject({ ok: true });
    expect(mine(after.body.mismatches)).toEqual([]);
  });

  it("agrees with the meter across a first subscription, where the calendar month and the anchored period overlap", async () => {
    const t = await createTenant();
    const m = meterFor(env.TENANT_METER, t.tenant.id);
    const hour = Date.now() - (Date.now() % HOUR);
    // Checkout half an hour ago, mid-hour: the anchored period starts then and runs a month,
    // over the rest of the calendar month that counted the usage before it.
    const checkout = hour - HOUR / 2 + 15_000;
    await m.consume(t.tenant.id, { metric: "events", amount: 5, at: hour - HOUR + 60_000 });
    await env.CONTROL_DB.prepare(
      `INSERT INTO subscriptions (tenant_id, stripe_customer_id, status, plan, interval, current_period_end, synced_at)
       VALUES (?, 'cus_period_move', 'active', 'pro', 'month', ?, ?)`,
    )
      .bind(t.tenant.id, addMonths(checkout, 1), Date.now())
      .run();
    await m.refresh(t.tenant.id);
    await m.consume(t.tenant.id, { metric: "events", amount: 2, at: checkout + 60_000 });
    await m.consume(t.tenant.id, { metric: "events", amount: 3 });
    const mine = (rows: any[]) =>
      rows.filter((r) => r.tenant_id === t.tenant.id && r.metric === "events");
    await api("POST", "/_dev/usage/reconcile?flush=1");

    // What the metering worker writes: each outbox row with the period the meter counted it in.
    const outbox = await runInDurableObject(m, (_, state) =>
      state.storage.sql
        .exec<{
          key: string;
          seq: number;
          window_start: number;
          period_start: number;
          delta: number;
        }>("SELECT key, seq, window_start, period_start, delta FROM outbox WHERE metric = 'events'")
        .toArray(),
    );
    const calendar = new Date(hour - HOUR + 60_000);
    const calendarStart = Date.UTC(calendar.getUTCFullYear(), calendar.getUTCMonth(), 1);
    expect(outbox.map((r) => [r.window_start, r.period_start, r.delta])).toEqual([
      [hour - HOUR, calendarStart, 5],
      [checkout, checkout, 2],
      [hour, checkout, 3],
    ]);
    for (const row of outbox) {
      await env.CONTROL_DB.prepare(
        `INSERT INTO usage_ledger (key, tenant_id, metric, window_start, period_start, seq, delta, billable, created_at)
         VALUES (?, ?, 'events', ?, ?, ?, ?, 0, ?)`,
      )
        .bind(
          row.key,
          t.tenant.id,
          row.window_start,
          row.period_start,
          row.seq,
          row.delta,
          Date.now(),
        )
        .run();
    }
    const report = await api("POST", "/_dev/usage/reconcile");
    expect(
      mine(report.body.rows).map((r: any) => [r.period_start, r.meter, r.ledger, r.status]),
    ).toEqual([
      [iso(calendarStart), 5, 5, "ok"],
      [iso(checkout), 5, 5, "ok"],
    ]);
    expect(mine(report.body.mismatches)).toEqual([]);
  });
});
