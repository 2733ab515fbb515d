/**
 * Tenant billing against the Stripe emulator (answering the worker's outbound Stripe requests):
 * checkout through the hosted page, the success redirect's immediate re-sync, the portal, and a
 * cancellation falling back to free limits without losing data.
 */

import { env } from "cloudflare:workers";
import { stripeClient, syncTenantBilling } from "@tenantry/core";
import { describe, expect, it } from "vitest";
import { config } from "../src/env";
import { CHECKOUT_COMPLETE_LIMITS, completeCheckout } from "../src/services/billing";
import { findTenantBySlug } from "../src/services/registry";
import {
  addMember,
  api,
  auditRows,
  createTenant,
  expectProblem,
  setPaid,
  setPastDue,
  subscribe,
} from "./helpers";

const stripe = () => stripeClient(config(env))!;

describe("tenant billing", () => {
  it("a new tenant is on free, with free entitlements and no subscription", async () => {
    const t = await createTenant();
    const res = await api("GET", "/v1/billing", { slug: t.slug, token: t.owner.token });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      plan: "free",
      status: null,
      cancel_at_period_end: false,
      invoices: [],
    });
    expect(res.body.entitlements.limits.seats).toEqual({ value: 3, hard: true });
  });

  it("checkout → hosted page → success redirect re-syncs the plan before any webhook", async () => {
    const t = await createTenant();
    const success = await subscribe(t);
    const redirect = await api("GET", `${success.pathname}${success.search}`, { slug: t.slug });
    expect(redirect.status, JSON.stringify(redirect.body)).toBe(303);
    expect(redirect.headers.get("location")).toBe(
      `http://${t.slug}.localhost:8787/billing?checkout=complete`,
    );

    const billing = await api("GET", "/v1/billing", { slug: t.slug, token: t.owner.token });
    expect(billing.body).toMatchObject({
      plan: "pro",
      status: "active",
      access: "full",
      interval: "month",
    });
    expect(billing.body.entitlements.limits.seats.value).toBe(10);
    expect(billing.body.invoices[0]).toMatchObject({ status: "paid" });
    expect((await findTenantBySlug(env, t.slug))!.plan).toBe("pro");
    const [change] = await auditRows(t, "billing.update");
    expect(JSON.parse(change!.after)).toEqual({ plan: "pro", status: "active", access: "full" });
    expect(change!.actor_id).toBe("stripe");
  });

  it("a re-sync with nothing new changes nothing; an older fetch never overwrites a newer one", async () => {
    const t = await createTenant();
    const success = await subscribe(t);
    await api("GET", `${success.pathname}${success.search}`, { slug: t.slug });
    const tenant = (await findTenantBySlug(env, t.slug))!;
    await syncTenantBilling(env, tenant, { requestId: "test", ip: null });
    expect(await auditRows(t, "billing.update")).toHaveLength(1);
    // A fetch "from the future" is stored: a later cancellation fetched now is older and ignored.
    await env.CONTROL_DB.prepare("UPDATE subscriptions SET synced_at = ? WHERE tenant_id = ?")
      .bind(Date.now() + 60_000, tenant.id)
      .run();
    await stripe().subscriptions.cancel(
      (await env.CONTROL_DB.prepare(
        "SELECT stripe_subscription_id AS id FROM subscriptions WHERE tenant_id = ?",
      )
        .bind(tenant.id)
        .first<{ id: string }>())!.id,
    );
    await syncTenantBilling(env, tenant, { requestId: "test", ip: null });
    expect(
      (await api("GET", "/v1/billing", { slug: t.slug, token: t.owner.token })).body.status,
    ).toBe("active");
  });

  it("a canceled subscription falls back to free limits without losing data", async () => {
    const t = await createTenant();
    const success = await subscribe(t);
    await api("GET", `${success.pathname}${success.search}`, { slug: t.slug });
    // Four seats: more than free allows.
    for (let i = 0; i < 3; i++) await addMember(t, "viewer");
    const subId = (await env.CONTROL_DB.prepare(
      "SELECT stripe_subscription_id AS id FROM subscriptions WHERE tenant_id = ?",
    )
      .bind(t.tenant.id)
      .first<{ id: string }>())!.id;
    await stripe().subscriptions.cancel(subId);
    await syncTenantBilling(env, (await findTenantBySlug(env, t.slug))!, {
      requestId: "test",
      ip: null,
    });
    const billing = await api("GET", "/v1/billing", { slug: t.slug, token: t.owner.token });
    expect(billing.body).toMatchObject({
      plan: "free",
      subscribed_plan: "pro",
      status: "canceled",
      access: "free_limits",
    });
    expect(
      (await api("GET", "/v1/members", { slug: t.slug, token: t.owner.token })).body.data,
    ).toHaveLength(4);
  });

  it("the success redirect refuses another tenant's checkout session", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const success = await subscribe(b);
    const res = await api("GET", `${success.pathname}${success.search}`, { slug: a.slug });
    expectProblem(res, 400, "invalid_request");
  });

  it("opens the billing portal; the free plan needs no checkout", async () => {
    const t = await createTenant();
    const portal = await api("POST", "/v1/billing/portal", { slug: t.slug, token: t.owner.token });
    expect(portal.status).toBe(200);
    expect(portal.body.url).toMatch(/\/portal\//);
    expectProblem(
      await api("POST", "/v1/billing/checkout", {
        slug: t.slug,
        token: t.owner.token,
        body: { plan: "free", interval: "month" },
      }),
      400,
    );
  });

  it("self-serve checkout refuses contact-sales plans and a second live subscription", async () => {
    const t = await createTenant();
    const as = { slug: t.slug, token: t.owner.token };
    expectProblem(
      await api("POST", "/v1/billing/checkout", {
        ...as,
        body: { plan: "enterprise", interval: "month" },
      }),
      400,
      "plan_contact_sales",
    );
    // Paid on the hosted page; Stripe has the subscription whether or not a webhook came yet.
    await subscribe(t);
    expectProblem(
      await api("POST", "/v1/billing/checkout", {
        ...as,
        body: { plan: "business", interval: "month" },
      }),
      409,
      "subscription_exists",
    );
  });

  it("the success redirect costs no Stripe call for a session it did not create, and is throttled", async () => {
    const t = await createTenant();
    // Stripe unreachable: asking it would be a 503, not the 400 for an unknown session.
    const down = { ...env, STRIPE_API_BASE: "https://stripe-down.invalid" };
    await expect(
      completeCheckout({
        ctx: { env: down, tenant: t.tenant, requestId: "test", ip: null },
        input: { session_id: "cs_test_made_up" },
      }),
    ).rejects.toMatchObject({ status: 400, code: "invalid_request" });
    const headers = { "cf-connecting-ip": "203.0.113.77" };
    const responses = await Promise.all(
      Array.from({ length: CHECKOUT_COMPLETE_LIMITS.client.max + 5 }, () =>
        api("GET", "/v1/billing/checkout/complete?session_id=cs_test_x", { slug: t.slug, headers }),
      ),
    );
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 400).length).toBe(CHECKOUT_COMPLETE_LIMITS.client.max);
    expect(statuses.filter((s) => s === 429).length).toBe(5);
  });

  it("a past_due tenant past its grace period is read-only: every write is refused naming the billing state, reads, billing and revocations work", async () => {
    const t = await createTenant();
    const as = { slug: t.slug, token: t.owner.token };
    const member = await addMember(t, "member");
    const key = await api("POST", "/v1/api-keys", {
      ...as,
      body: { name: "ci", permissions: ["members:read"] },
    });
    await setPastDue(t);
    const writes: [string, string, unknown?][] = [
      ["POST", "/v1/invitations", { email: "new@example.test", role: "member" }],
      ["POST", "/v1/api-keys", { name: "another", permissions: ["members:read"] }],
      ["PATCH", `/v1/members/${member.memberId}`, { role: "viewer" }],
    ];
    for (const [method, path, body] of writes) {
      const refused = await api(method, path, { ...as, body });
      expectProblem(refused, 403, "billing_read_only");
      expect(refused.body, `${method} ${path}`).toMatchObject({
        billing_status: "past_due",
        access: "read_only",
      });
    }
    expect((await api("GET", "/v1/members", as)).body.data).toHaveLength(2);
    expect((await api("GET", "/v1/billing", as)).body).toMatchObject({ access: "read_only" });
    // Locking things down never waits for a payment.
    expect((await api("DELETE", `/v1/api-keys/${key.body.id}`, as)).status).toBe(204);
    expect((await api("DELETE", `/v1/members/${member.memberId}`, as)).status).toBe(204);
    // Paid again: writes work.
    await setPaid(t);
    const again = await api("POST", "/v1/api-keys", {
      ...as,
      body: { name: "again", permissions: ["members:read"] },
    });
    expect(again.status).toBe(201);
  });

  it("every member sees billing access on GET /v1/me: past due within grace names when read-only begins, past grace says read_only", async () => {
    const t = await createTenant();
    const viewer = await addMember(t, "viewer");
    const me = () => api("GET", "/v1/me", { slug: t.slug, token: viewer.tokens.access_token });
    expect((await me()).body.tenant).toMatchObject({ access: "free_limits", grace_ends_at: null });
    await setPastDue(t, 2);
    const within = (await me()).body.tenant;
    expect(within.access).toBe("full");
    // Grace is 7 days (wrangler.toml) from the first past_due sync, two days ago.
    const left = Date.parse(within.grace_ends_at) - Date.now();
    expect(left).toBeGreaterThan(4.9 * 86_400_000);
    expect(left).toBeLessThan(5.1 * 86_400_000);
    await env.CONTROL_DB.prepare("DELETE FROM subscriptions WHERE tenant_id = ?")
      .bind(t.tenant.id)
      .run();
    await setPastDue(t);
    expect((await me()).body.tenant).toMatchObject({ access: "read_only", grace_ends_at: null });
  });

  it("GET /v1/plans lists the catalog to any member: prices per interval, limits and features", async () => {
    const t = await createTenant();
    const viewer = await addMember(t, "viewer");
    const res = await api("GET", "/v1/plans", { slug: t.slug, token: viewer.tokens.access_token });
    expect(res.status).toBe(200);
    expect(res.body.currency).toBe("usd");
    expect(res.body.data.map((p: { id: string }) => p.id)).toEqual([
      "free",
      "pro",
      "business",
      "enterprise",
    ]);
    const pro = res.body.data[1];
    expect(pro).toMatchObject({
      name: "Pro",
      contact_sales: false,
      prices: { month: 2900, year: 29000 },
    });
    expect(pro.features).toContain("custom_domain");
    expect(pro.limits).toContainEqual({
      key: "events",
      description: "usage events ingested",
      period: "month",
      value: 100000,
      hard: false,
    });
    expect(res.body.data[0].prices).toBeNull();
  });
});
