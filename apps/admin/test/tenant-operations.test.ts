/**
 * What operators do to a tenant through the admin API, observed on the tenant's own API: suspend
 * and reactivate, overrides that move a limit at once, plan changes that go through Stripe. Each
 * mutation leaves exactly one operator audit entry; a repeated or racing one leaves none.
 */
import { env } from "cloudflare:workers";
import { syncTenantBilling } from "@tenantry/core";
import { describe, expect, it } from "vitest";
import {
  api,
  createTenant,
  expectProblem,
  subscribe,
  type TestTenant,
} from "../../../workers/api/test/helpers";
import { adminFetch, operatorWithToken } from "./helpers";

async function operatorAudit(tenantId: string, action: string) {
  const { results } = await env.CONTROL_DB.prepare(
    "SELECT * FROM platform_audit_log WHERE tenant_id = ? AND action = ? ORDER BY id",
  )
    .bind(tenantId, action)
    .all<Record<string, any>>();
  return results;
}

const post = (path: string, token: string, body: unknown) =>
  adminFetch(path, { method: "POST", token, body: JSON.stringify(body) });

const newProject = (t: TestTenant, name: string) =>
  api("POST", "/v1/projects", { slug: t.slug, token: t.owner.token, body: { name } });

describe("suspend and reactivate", () => {
  it("a suspended tenant's API answers 403 tenant_suspended; reactivated, it works again", async () => {
    const op = await operatorWithToken("support");
    const t = await createTenant();
    const me = () => api("GET", "/v1/me", { slug: t.slug, token: t.owner.token });
    expect((await me()).status).toBe(200);

    const suspended = await post(`/api/v1/tenants/${t.tenant.id}/suspend`, op.token, {
      reason: "chargeback investigation",
    });
    expect(suspended.status).toBe(200);
    expect(await suspended.json()).toEqual({ id: t.tenant.id, slug: t.slug, status: "suspended" });
    expectProblem(await me(), 403, "tenant_suspended");
    const [entry] = await operatorAudit(t.tenant.id, "tenant.suspend");
    expect(entry).toMatchObject({
      actor_type: "operator",
      actor_id: op.id,
      target_type: "tenant",
      target_id: t.tenant.id,
      reason: "chargeback investigation",
    });
    expect(JSON.parse(entry!.before)).toEqual({ status: "active" });
    expect(JSON.parse(entry!.after)).toEqual({ status: "suspended" });

    // Suspending again changes nothing and records nothing.
    const again = await post(`/api/v1/tenants/${t.tenant.id}/suspend`, op.token, {
      reason: "twice",
    });
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ code: "tenant_not_active" });
    expect(await operatorAudit(t.tenant.id, "tenant.suspend")).toHaveLength(1);

    const back = await post(`/api/v1/tenants/${t.tenant.id}/reactivate`, op.token, {
      reason: "cleared",
    });
    expect(back.status).toBe(200);
    expect((await me()).status).toBe(200);
    expect(await operatorAudit(t.tenant.id, "tenant.reactivate")).toHaveLength(1);
  });

  it("parallel suspensions make one change and one audit entry", async () => {
    const op = await operatorWithToken("platform_admin");
    const t = await createTenant();
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        post(`/api/v1/tenants/${t.tenant.id}/suspend`, op.token, { reason: "abuse report" }),
      ),
    );
    const statuses = results.map((r) => r.status).sort();
    await Promise.all(results.map((r) => r.body?.cancel()));
    expect(statuses).toEqual([200, 409, 409, 409, 409]);
    expect(await operatorAudit(t.tenant.id, "tenant.suspend")).toHaveLength(1);
  });

  it("needs a reason and the permission; an unknown tenant is 404", async () => {
    const reader = await operatorWithToken("read_only");
    const support = await operatorWithToken("support");
    const t = await createTenant();
    const path = `/api/v1/tenants/${t.tenant.id}/suspend`;
    expect((await post(path, reader.token, { reason: "not mine to do" })).status).toBe(403);
    expect((await post(path, support.token, {})).status).toBe(400);
    expect((await post(path, support.token, { reason: " " })).status).toBe(400);
    expect(
      (await post("/api/v1/tenants/ten_missing/suspend", support.token, { reason: "who?" })).status,
    ).toBe(404);
    expect(await operatorAudit(t.tenant.id, "tenant.suspend")).toHaveLength(0);
  });
});

describe("overrides", () => {
  it("a limit override lets a free tenant at its project limit create the next at once; expired, the limit applies again", async () => {
    const op = await operatorWithToken("billing");
    const t = await createTenant();
    for (let i = 0; i < 3; i++) expect((await newProject(t, `p${i}`)).status).toBe(201);
    expectProblem(await newProject(t, "fourth"), 403, "plan_limit_reached");

    const created = await post(`/api/v1/tenants/${t.tenant.id}/overrides`, op.token, {
      type: "limit",
      key: "projects",
      value: 5,
      reason: "trial extension for a pilot",
      expiresAt: Date.now() + 7 * 86_400_000,
    });
    expect(created.status).toBe(201);
    const override = (await created.json()) as { id: string; active: boolean };
    expect(override.active).toBe(true);
    expect((await newProject(t, "fourth")).status).toBe(201);
    const [entry] = await operatorAudit(t.tenant.id, "override.create");
    expect(entry).toMatchObject({ target_id: override.id, reason: "trial extension for a pilot" });
    expect(JSON.parse(entry!.after)).toMatchObject({ type: "limit", name: "projects", value: 5 });

    const listed = await adminFetch(`/api/v1/tenants/${t.tenant.id}/overrides`, {
      token: op.token,
    });
    const { data } = (await listed.json()) as { data: { id: string; active: boolean }[] };
    expect(data.find((o) => o.id === override.id)).toMatchObject({ active: true });

    // Parallel expiries: one takes effect and is audited, the others change nothing.
    const expirePath = `/api/v1/tenants/${t.tenant.id}/overrides/${override.id}/expire`;
    const expiries = await Promise.all(
      Array.from({ length: 4 }, () => post(expirePath, op.token, { reason: "pilot ended" })),
    );
    await Promise.all(expiries.map((r) => r.body?.cancel()));
    expect(expiries.map((r) => r.status).sort()).toEqual([200, 409, 409, 409]);
    expectProblem(await newProject(t, "fifth"), 403, "plan_limit_reached");
    const again = await post(expirePath, op.token, { reason: "pilot ended" });
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ code: "override_expired" });
    expect(await operatorAudit(t.tenant.id, "override.expire")).toHaveLength(1);
  });

  it("refuses an override that is not one, or already expired, and needs overrides:write", async () => {
    const op = await operatorWithToken("billing");
    const support = await operatorWithToken("support");
    const t = await createTenant();
    const path = `/api/v1/tenants/${t.tenant.id}/overrides`;
    const valid = { type: "feature", key: "sso", value: true, reason: "enterprise pilot" };
    expect((await post(path, support.token, valid)).status).toBe(403);
    expect((await post(path, op.token, { ...valid, key: "teleport" })).status).toBe(400);
    expect((await post(path, op.token, { ...valid, expiresAt: Date.now() - 1 })).status).toBe(400);
    expect(await operatorAudit(t.tenant.id, "override.create")).toHaveLength(0);
    // A flag and a request budget are overrides too.
    expect(
      (await post(path, op.token, { type: "flag", key: "new_editor", value: true, reason: "beta" }))
        .status,
    ).toBe(201);
    expect(
      (
        await post(path, op.token, {
          type: "rate_limit",
          key: "tenant",
          value: { perSecond: 20, perMinute: 600 },
          reason: "load test",
          expiresAt: Date.now() + 3_600_000,
        })
      ).status,
    ).toBe(201);
    expect(await operatorAudit(t.tenant.id, "override.create")).toHaveLength(2);
  });
});

describe("plan changes", () => {
  it("update the subscription in Stripe; the tenant converges when billing re-syncs", async () => {
    const op = await operatorWithToken("billing");
    const t = await createTenant();
    const success = await subscribe(t, "pro");
    await api("GET", `${success.pathname}${success.search}`, { slug: t.slug });
    const plan = async () =>
      (
        await env.CONTROL_DB.prepare("SELECT plan FROM tenants WHERE id = ?")
          .bind(t.tenant.id)
          .first<{ plan: string }>()
      )?.plan;
    expect(await plan()).toBe("pro");

    const res = await post(`/api/v1/tenants/${t.tenant.id}/plan`, op.token, {
      plan: "business",
      reason: "upgrade agreed by phone",
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      plan: "business",
      interval: "month",
      converges_via: "stripe_webhook",
    });
    // Nothing local was written: Stripe is the authority, and the sync brings the change.
    expect(await plan()).toBe("pro");
    const tenant = await env.CONTROL_DB.prepare(
      "SELECT id, plan, database_binding AS databaseBinding, stripe_customer_id AS stripeCustomerId FROM tenants WHERE id = ?",
    )
      .bind(t.tenant.id)
      .first<{ id: string; plan: string; databaseBinding: string; stripeCustomerId: string }>();
    await syncTenantBilling(env, tenant!, { requestId: "test", ip: null });
    expect(await plan()).toBe("business");
    const seats = await api("GET", "/v1/entitlements", { slug: t.slug, token: t.owner.token });
    expect(seats.body.limits.seats.value).toBe(50);

    const [entry] = await operatorAudit(t.tenant.id, "subscription.update");
    expect(entry).toMatchObject({ target_type: "subscription", reason: "upgrade agreed by phone" });
    expect(JSON.parse(entry!.before)).toMatchObject({ plan: "pro", interval: "month" });
    expect(JSON.parse(entry!.after)).toMatchObject({ plan: "business", interval: "month" });

    const same = await post(`/api/v1/tenants/${t.tenant.id}/plan`, op.token, {
      plan: "business",
      reason: "again",
    });
    expect(same.status).toBe(409);
    expect(await same.json()).toMatchObject({ code: "plan_unchanged" });
    expect(await operatorAudit(t.tenant.id, "subscription.update")).toHaveLength(1);
  });

  it("a tenant without a subscription has no plan to change (comp it with an override)", async () => {
    const op = await operatorWithToken("billing");
    const support = await operatorWithToken("support");
    const t = await createTenant();
    const path = `/api/v1/tenants/${t.tenant.id}/plan`;
    expect((await post(path, support.token, { plan: "pro", reason: "x-sell" })).status).toBe(403);
    expect((await post(path, op.token, { plan: "free", reason: "downgrade" })).status).toBe(400);
    const res = await post(path, op.token, { plan: "pro", reason: "upgrade" });
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ code: "no_subscription" });
    expect(await operatorAudit(t.tenant.id, "subscription.update")).toHaveLength(0);
  });
});

describe("tenant detail", () => {
  it("shows the registry row, billing, entitlements with overrides, members, audit and usage", async () => {
    const op = await operatorWithToken("read_only");
    const billing = await operatorWithToken("billing");
    const t = await createTenant();
    await post(`/api/v1/tenants/${t.tenant.id}/overrides`, billing.token, {
      type: "limit",
      key: "seats",
      value: 7,
      reason: "partner",
    });
    await newProject(t, "seen");
    const usage = await api("POST", "/v1/usage/events", {
      slug: t.slug,
      token: t.owner.token,
      body: {
        events: [
          { id: "evt-1", metric: "events", value: 5, timestamp: Math.floor(Date.now() / 1000) },
        ],
      },
    });
    expect(usage.status, JSON.stringify(usage.body)).toBe(200);
    const res = await adminFetch(`/api/v1/tenants/${t.tenant.id}`, { token: op.token });
    expect(res.status).toBe(200);
    const detail = (await res.json()) as any;
    expect(detail.tenant).toMatchObject({
      id: t.tenant.id,
      slug: t.slug,
      status: "active",
      access: "free_limits",
      owner_email: t.owner.email,
      database_binding: t.tenant.databaseBinding,
      schema_version: expect.any(Number),
    });
    expect(detail.billing).toMatchObject({ access: "free_limits", effective_plan: "free" });
    expect(detail.entitlements.limits.seats).toEqual({ value: 7, hard: true });
    expect(detail.overrides[0]).toMatchObject({ active: true, override: { key: "seats" } });
    expect(detail.members).toEqual([
      expect.objectContaining({ email: t.owner.email, role: "owner" }),
    ]);
    expect(detail.audit.map((a: { action: string }) => a.action)).toContain("project.create");
    expect(detail.usage.ledger.map((s: { metric: string }) => s.metric)).toEqual(
      expect.arrayContaining(["api_calls", "events"]),
    );
    expect(detail.usage.ledger[0].days).toHaveLength(detail.usage.days);
    // A ledger row of a window inside today counts on today's bar.
    const hour = Date.now() - (Date.now() % 3_600_000);
    await env.CONTROL_DB.prepare(
      `INSERT INTO usage_ledger (key, tenant_id, metric, window_start, period_start, seq, delta, billable, created_at)
       VALUES (?1, ?2, 'events', ?3, ?3, 1, 9, 0, ?3)`,
    )
      .bind(`detail-${t.tenant.id}`, t.tenant.id, hour)
      .run();
    const later = (await (
      await adminFetch(`/api/v1/tenants/${t.tenant.id}`, { token: op.token })
    ).json()) as any;
    const events = later.usage.ledger.find((s: { metric: string }) => s.metric === "events");
    const today = events.days.at(-1);
    expect(today.day).toBe(new Date(hour).toISOString().slice(0, 10));
    expect(today.used).toBeGreaterThanOrEqual(9);
    expect(detail.usage.meter_period).toContainEqual(
      expect.objectContaining({ metric: "events", used: 5 }),
    );

    expect((await adminFetch("/api/v1/tenants/ten_nope", { token: op.token })).status).toBe(404);
  });
});
