/**
 * The tenant meter (one Durable Object per tenant) and the edge checks built on it: exact
 * check-and-count under concurrency, idempotency keys, request budgets and the monthly API call
 * quota with RateLimit headers, limits that follow plan changes and expiring overrides.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { meterFor } from "@tenantry/core";
import { addMonths } from "@tenantry/plans";
import { describe, expect, it } from "vitest";
import {
  addMember,
  addOverride,
  api,
  count,
  createApiKey,
  createTenant,
  expectProblem,
  PASSWORD,
  subscribe,
  tenantD1,
} from "./helpers";

const meter = (tenantId: string) => meterFor(env.TENANT_METER, tenantId);

describe("the tenant meter", () => {
  it("1,000 concurrent consume calls against a limit of 500: exactly 500 allowed", async () => {
    const t = await createTenant();
    await addOverride(t, { type: "limit", key: "events", value: 500, hard: true, reason: "test" });
    const results = await Promise.all(
      Array.from({ length: 1000 }, () =>
        meter(t.tenant.id).consume(t.tenant.id, { metric: "events", amount: 1 }),
      ),
    );
    expect(results.filter((r) => r.allowed)).toHaveLength(500);
    const refused = results.filter((r) => !r.allowed);
    expect(refused).toHaveLength(500);
    expect(refused[0]).toMatchObject({
      used: 500,
      limit: 500,
      remaining: 0,
      reason: "limit_exceeded",
    });
  });

  it("a repeated key returns the first answer and counts once", async () => {
    const t = await createTenant();
    const m = meter(t.tenant.id);
    const first = await m.consume(t.tenant.id, { metric: "events", amount: 7, key: "batch-1" });
    const again = await m.consume(t.tenant.id, { metric: "events", amount: 7, key: "batch-1" });
    expect(first).toMatchObject({ allowed: true, used: 7 });
    expect(again).toMatchObject({ ...first, duplicate: true });
    const next = await m.consume(t.tenant.id, { metric: "events", amount: 1 });
    expect(next.used).toBe(8);
  });

  it("answers with the period: calendar month in UTC without a subscription", async () => {
    const t = await createTenant();
    const result = await meter(t.tenant.id).consume(t.tenant.id, { metric: "events", amount: 1 });
    const now = new Date();
    expect(result.resets_at).toBe(
      new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString(),
    );
    expect(result).toMatchObject({ limit: 10_000, hard: true, remaining: 9_999 });
  });

  it("an override with an expiry lapses on time", async () => {
    const t = await createTenant();
    await addOverride(t, { type: "limit", key: "events", value: 2, hard: true, reason: "test" });
    await addOverride(
      t,
      { type: "limit", key: "events", value: 5, hard: true, reason: "one more second" },
      Date.now() + 1500,
    );
    const m = meter(t.tenant.id);
    expect((await m.consume(t.tenant.id, { metric: "events", amount: 4 })).allowed).toBe(true);
    await new Promise((r) => setTimeout(r, 1600));
    const after = await m.consume(t.tenant.id, { metric: "events", amount: 1 });
    expect(after).toMatchObject({ allowed: false, limit: 2, used: 4 });
  });
});

describe("periods on the billing anchor", () => {
  it("counters reset on the subscription's anchor, and an hour window never straddles two periods", async () => {
    const t = await createTenant();
    // A period that ends in five days at 12:30:15 (mid-hour), so it began a month earlier at
    // the same time of day.
    const end = new Date(Date.now() + 5 * 86_400_000);
    end.setUTCHours(12, 30, 15, 0);
    const start = addMonths(end.getTime(), -1);
    await env.CONTROL_DB.prepare(
      `INSERT INTO subscriptions (tenant_id, stripe_customer_id, status, plan, interval, current_period_end, synced_at)
       VALUES (?, 'cus_anchor', 'active', 'pro', 'month', ?, ?)`,
    )
      .bind(t.tenant.id, end.getTime(), Date.now())
      .run();
    const m = meter(t.tenant.id);
    await m.refresh(t.tenant.id);
    const now = await m.consume(t.tenant.id, { metric: "events", amount: 1 });
    expect(now).toMatchObject({ allowed: true, plan: "pro", resets_at: end.toISOString() });
    // Five minutes after the period began, and five minutes before, in the same clock hour.
    await m.consume(t.tenant.id, { metric: "events", amount: 2, at: start + 5 * 60_000 });
    await m.consume(t.tenant.id, { metric: "events", amount: 4, at: start - 5 * 60_000 });
    const windows = await runInDurableObject(m, (_, state) =>
      state.storage.sql
        .exec<{ window_start: number; period_start: number; used: number }>(
          "SELECT window_start, period_start, used FROM usage WHERE metric = 'events' ORDER BY window_start",
        )
        .toArray(),
    );
    const hour = start - (start % 3_600_000);
    expect(windows.slice(0, 2)).toEqual([
      { window_start: hour, period_start: addMonths(end.getTime(), -2), used: 4 },
      { window_start: start, period_start: start, used: 2 },
    ]);
    const totals = await m.totals();
    expect(totals.map((x) => [x.period_start, x.used])).toEqual([
      [addMonths(end.getTime(), -2), 4],
      [start, 3],
    ]);
  });
});

describe("edge checks on every authenticated request", () => {
  it("RateLimit headers on every answer; the monthly API call quota refuses with 429", async () => {
    const t = await createTenant();
    await addOverride(t, { type: "limit", key: "api_calls", value: 3, hard: true, reason: "test" });
    const as = { slug: t.slug, token: t.owner.token };
    for (let i = 0; i < 3; i++) {
      const res = await api("GET", "/v1/me", as);
      expect(res.status).toBe(200);
      expect(res.headers.get("ratelimit-remaining")).toBe(String(2 - i));
      expect(res.headers.get("ratelimit-limit")).toBe("3");
      expect(Number(res.headers.get("ratelimit-reset"))).toBeGreaterThan(0);
    }
    const refused = await api("GET", "/v1/me", as);
    expectProblem(refused, 429, "rate_limited");
    expect(refused.body.detail).toContain("monthly quota of 3 API calls");
    expect(refused.headers.get("ratelimit-limit")).toBe("3");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(refused.headers.get("ratelimit-remaining")).toBe("0");
  });

  it("the tenant's request budget, by plan, before any service runs", async () => {
    const t = await createTenant({ planRateLimits: true });
    const as = { slug: t.slug, token: t.owner.token };
    // Stay inside one minute window (not a timing assertion: it only avoids a boundary).
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 55_000) await new Promise((r) => setTimeout(r, 60_500 - intoMinute));
    // Free: 10 requests per second and 300 per minute for the whole tenant; the headers name
    // the per-minute budget, the one closest to running out.
    const first = await api("GET", "/v1/me", as);
    expect(first.headers.get("ratelimit-limit")).toBe("300");
    expect(first.headers.get("ratelimit-remaining")).toBe("299");

    await addOverride(t, {
      type: "rate_limit",
      key: "tenant",
      value: { perSecond: 1000, perMinute: 5 },
      reason: "a small tenant budget",
    });
    // One request of this minute is already counted: four more fit.
    for (let i = 0; i < 4; i++) expect((await api("GET", "/v1/me", as)).status).toBe(200);
    const refused = await api("POST", "/v1/api-keys", {
      ...as,
      body: { name: "x", permissions: ["members:read"] },
    });
    expectProblem(refused, 429, "rate_limited");
    expect(refused.body.detail).toContain("tenant budget of 5 requests per minute");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    // Refused before the service ran: nothing was created.
    expect(await count(tenantD1(t), "api_keys")).toBe(0);
  });

  it("an API key has its own, smaller budget inside the tenant's", async () => {
    const t = await createTenant({ planRateLimits: true });
    await addOverride(t, {
      type: "rate_limit",
      key: "tenant",
      value: { perSecond: 1000, perMinute: 60_000 },
      reason: "room for the key test",
    });
    await addOverride(t, {
      type: "rate_limit",
      key: "apiKey",
      value: { perSecond: 1000, perMinute: 4 },
      reason: "a small key budget",
    });
    const { key } = await createApiKey(t, ["members:read"]);
    const withKey = { slug: t.slug, token: key };
    for (let i = 0; i < 4; i++) expect((await api("GET", "/v1/members", withKey)).status).toBe(200);
    const refused = await api("GET", "/v1/members", withKey);
    expectProblem(refused, 429, "rate_limited");
    expect(refused.body.detail).toContain("API key budget of 4 requests per minute");
    // The owner's session is not an API key: it still has the tenant's budget.
    expect((await api("GET", "/v1/me", { slug: t.slug, token: t.owner.token })).status).toBe(200);
  });
});

describe("RateLimit headers", () => {
  it("come with error answers too", async () => {
    const t = await createTenant();
    const viewer = await addMember(t, "viewer");
    const res = await api("GET", "/v1/audit-log", {
      slug: t.slug,
      token: viewer.tokens.access_token,
    });
    expectProblem(res, 403, "forbidden");
    expect(res.headers.get("ratelimit-limit")).toBeTruthy();
    expect(res.headers.get("ratelimit-remaining")).toBeTruthy();
  });
});

describe("expensive routes", () => {
  it("draw from their own smaller budget, so heavy work cannot starve interactive requests", async () => {
    const t = await createTenant({ planRateLimits: true });
    const as = { slug: t.slug, token: t.owner.token };
    await addOverride(t, {
      type: "rate_limit",
      key: "expensive",
      value: { perSecond: 1000, perMinute: 2 },
      reason: "a small expensive budget",
    });
    // Stay inside one minute window (not a timing assertion: it only avoids a boundary).
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 55_000) await new Promise((r) => setTimeout(r, 60_500 - intoMinute));
    const ingest = (id: string) =>
      api("POST", "/v1/usage/events", {
        ...as,
        body: { events: [{ id, metric: "events", value: 1, timestamp: new Date().toISOString() }] },
      });
    expect((await ingest("a")).status).toBe(200);
    expect((await ingest("b")).status).toBe(200);
    const refused = await ingest("c");
    expectProblem(refused, 429, "rate_limited");
    expect(refused.body.detail).toContain("expensive-route budget of 2 requests per minute");
    // Interactive requests of the same tenant still pass.
    expect((await api("GET", "/v1/me", as)).status).toBe(200);
  });
});

describe("limits follow the plan", () => {
  it("a plan change mid-period moves the limit immediately", async () => {
    const t = await createTenant();
    const m = meter(t.tenant.id);
    // Free: 10,000 events a month, hard.
    expect(await m.consume(t.tenant.id, { metric: "events", amount: 10_000 })).toMatchObject({
      allowed: true,
      remaining: 0,
    });
    expect((await m.consume(t.tenant.id, { metric: "events", amount: 1 })).allowed).toBe(false);
    // Pro through Checkout: the success redirect re-syncs, and the meter is told at once.
    const success = await subscribe(t);
    await api("GET", `${success.pathname}${success.search}`, { slug: t.slug });
    const after = await m.consume(t.tenant.id, { metric: "events", amount: 1 });
    expect(after).toMatchObject({ allowed: true, limit: 100_000, hard: false });
  });
});

describe("admission leases", () => {
  it("a hard quota holds across parallel requests: 120 at once against 50 → exactly 50", async () => {
    const t = await createTenant();
    await addOverride(t, {
      type: "limit",
      key: "api_calls",
      value: 50,
      hard: true,
      reason: "test",
    });
    const as = { slug: t.slug, token: t.owner.token };
    const statuses = (
      await Promise.all(Array.from({ length: 120 }, () => api("GET", "/v1/me", as)))
    ).map((r) => r.status);
    expect(statuses.filter((s) => s === 200).length).toBe(50);
    expect(statuses.filter((s) => s === 429).length).toBe(70);
  });

  it("the tenant app's calls for a person have a budget of their own and are never API calls", async () => {
    const t = await createTenant();
    const as = { slug: t.slug, token: t.owner.token };
    const viaApp = { ...as, via: "app" as const };
    const key = await createApiKey(t, ["members:read"]);
    await addOverride(t, { type: "limit", key: "api_calls", value: 0, hard: true, reason: "test" });
    // The quota refuses the API's clients, people through the app not at all.
    expectProblem(await api("GET", "/v1/me", as), 429, "rate_limited");
    expect((await api("GET", "/v1/me", viaApp)).status).toBe(200);
    // An API key stays API usage, whichever way it comes in.
    const keyViaApp = await api("GET", "/v1/members", { slug: t.slug, token: key.key, via: "app" });
    expectProblem(keyViaApp, 429, "rate_limited");

    // A spent tenant budget leaves the app's own window open, and the other way round.
    const t2 = await createTenant();
    const as2 = { slug: t2.slug, token: t2.owner.token };
    await addOverride(t2, {
      type: "rate_limit",
      key: "tenant",
      value: { perSecond: 1000, perMinute: 3 },
      reason: "a small tenant budget",
    });
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 50_000) await new Promise((r) => setTimeout(r, 60_500 - intoMinute));
    const direct = await Promise.all(Array.from({ length: 5 }, () => api("GET", "/v1/me", as2)));
    expect(direct.filter((r) => r.status === 429).length).toBe(2);
    const app = await Promise.all(
      Array.from({ length: 5 }, () => api("GET", "/v1/me", { ...as2, via: "app" })),
    );
    expect(app.filter((r) => r.status === 429).length).toBe(2);

    // What the app asked is never counted: only the 2 direct calls are API calls.
    const t3 = await createTenant();
    const as3 = { slug: t3.slug, token: t3.owner.token };
    for (let i = 0; i < 4; i++)
      expect((await api("GET", "/v1/me", { ...as3, via: "app" })).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await api("GET", "/v1/me", as3)).status).toBe(200);
    await expect
      .poll(
        async () => {
          const usage = await api<{ period: { used: number } }>(
            "GET",
            "/v1/usage?metric=api_calls",
            {
              ...as3,
              via: "app",
            },
          );
          return usage.body.period?.used;
          // API calls reach the meter in groups from each isolate's lease (ADR 007): allow the flush.
        },
        { timeout: 10_000 },
      )
      .toBe(2);
  });

  it("an exhausted quota still lets the tenant sign out, pay and revoke", async () => {
    const t = await createTenant();
    const as = { slug: t.slug, token: t.owner.token };
    const key = await createApiKey(t, ["members:read"]);
    const member = await addMember(t, "member");
    await addOverride(t, { type: "limit", key: "api_calls", value: 0, hard: true, reason: "test" });
    expectProblem(await api("GET", "/v1/me", as), 429, "rate_limited");
    expect((await api("GET", "/v1/billing", as)).status).toBe(200);
    const checkout = await api("POST", "/v1/billing/checkout", {
      ...as,
      body: { plan: "pro", interval: "month" },
    });
    expect(checkout.status, JSON.stringify(checkout.body)).toBe(200);
    expect((await api("POST", "/v1/billing/portal", as)).status).toBe(200);
    expect((await api("DELETE", `/v1/api-keys/${key.id}`, as)).status).toBe(204);
    expect((await api("DELETE", `/v1/members/${member.memberId}`, as)).status).toBe(204);
    expect((await api("POST", "/v1/auth/logout", as)).status).toBe(204);
    const login = await api("POST", "/v1/auth/login", {
      slug: t.slug,
      body: { email: t.owner.email, password: PASSWORD },
    });
    expect(login.status).toBe(200);
  });

  it("refusals of a low-privilege credential do not spend the tenant's budget", async () => {
    const t = await createTenant({ planRateLimits: true });
    const viewer = await addMember(t, "viewer");
    // Stay inside one minute window (not a timing assertion: it only avoids a boundary).
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 55_000) await new Promise((r) => setTimeout(r, 60_500 - intoMinute));
    await addOverride(t, {
      type: "rate_limit",
      key: "tenant",
      value: { perSecond: 1000, perMinute: 5 },
      reason: "a small tenant budget",
    });
    const refused = await Promise.all(
      Array.from({ length: 20 }, () =>
        api("GET", "/v1/audit-log", { slug: t.slug, token: viewer.tokens.access_token }),
      ),
    );
    for (const res of refused) expect([403, 429]).toContain(res.status);
    expect(refused.some((r) => r.status === 429)).toBe(true);
    // The tenant's five requests of this minute are all still there.
    for (let i = 0; i < 5; i++) {
      const res = await api("GET", "/v1/me", { slug: t.slug, token: t.owner.token });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    }
  });

  it("a plan without api_access refuses API keys, not members", async () => {
    const t = await createTenant();
    const { key } = await createApiKey(t, ["members:read"]);
    await addOverride(t, { type: "feature", key: "api_access", value: false, reason: "test" });
    // A lease taken before the change lives at most a second.
    await new Promise((r) => setTimeout(r, 1100));
    const res = await api("GET", "/v1/members", { slug: t.slug, token: key });
    expectProblem(res, 403, "feature_not_in_plan");
    expect(res.body.feature).toBe("api_access");
    expect((await api("GET", "/v1/me", { slug: t.slug, token: t.owner.token })).status).toBe(200);
  });
});

describe("gauges re-derive themselves", () => {
  it("on demand: drift from the tenant's database is corrected and reported", async () => {
    const t = await createTenant();
    await addMember(t, "viewer");
    const m = meter(t.tenant.id);
    // Gauges never used before are derived now (seats: owner and viewer), which is not drift.
    expect(await m.reconcileGauges(t.tenant.id)).toEqual([]);
    await runInDurableObject(m, (_, state) => {
      state.storage.sql.exec("UPDATE gauges SET value = 7 WHERE metric = 'seats'");
    });
    expect(await m.reconcileGauges(t.tenant.id)).toEqual([{ metric: "seats", from: 7, to: 2 }]);
    expect(await m.reconcileGauges(t.tenant.id)).toEqual([]);
  });

  it("a pending reservation is counted, an abandoned one lapses", async () => {
    const t = await createTenant();
    const m = meter(t.tenant.id);
    const taken = await m.consume(t.tenant.id, {
      metric: "seats",
      amount: 1,
      key: "seats:pending",
      reserve: true,
    });
    // The owner and the reservation.
    expect(taken).toMatchObject({ allowed: true, used: 2 });
    // The member is not written yet: re-derivation keeps its unit.
    expect(await m.reconcileGauges(t.tenant.id)).toEqual([]);
    await runInDurableObject(m, (_, state) => {
      state.storage.sql.exec("UPDATE reservations SET created_at = created_at - 3600000");
    });
    expect(await m.reconcileGauges(t.tenant.id)).toEqual([{ metric: "seats", from: 2, to: 1 }]);
  });
});
