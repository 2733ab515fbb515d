/**
 * Reclaiming unverified sign-ups: the tenant is removed, its database wiped and returned to the
 * pool, in an audited, idempotent and resumable job.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { meterFor } from "@tenantry/core";
import { describe, expect, it } from "vitest";
import { reclaimUnverifiedTenants } from "../src/services/reclaim";
import {
  api,
  count,
  createTenant,
  expectProblem,
  lastMail,
  markEmailVerified,
  PASSWORD,
  type TestTenant,
  tokenFromMail,
  uniqueSlug,
} from "./helpers";

const DAY = 86_400_000;
const WARNING = "Verify your email to keep";

async function age(t: TestTenant, days: number) {
  await env.CONTROL_DB.prepare("UPDATE tenants SET created_at = ? WHERE id = ?")
    .bind(Date.now() - days * DAY, t.tenant.id)
    .run();
}

const rows = (sql: string, ...params: unknown[]) =>
  env.CONTROL_DB.prepare(sql)
    .bind(...params)
    .all<Record<string, any>>()
    .then((r) => r.results);

/** The control-plane rows that name the tenant. */
async function traces(tenantId: string) {
  const n: Record<string, number> = {};
  for (const table of [
    "tenants WHERE id",
    "tenant_databases WHERE tenant_id",
    "user_tenants WHERE tenant_id",
    "auth_tokens WHERE tenant_id",
    "subscriptions WHERE tenant_id",
    "entitlement_overrides WHERE tenant_id",
  ]) {
    n[table.split(" ")[0]!] = (await rows(`SELECT 1 FROM ${table} = ?`, tenantId)).length;
  }
  return n;
}

/** Every pool database is assigned to a tenant that exists, and every tenant's is its own. */
async function expectPoolConsistent() {
  expect(
    await count(
      env.CONTROL_DB,
      "tenant_databases WHERE tenant_id IS NOT NULL AND tenant_id NOT IN (SELECT id FROM tenants)",
    ),
  ).toBe(0);
  expect(
    await count(
      env.CONTROL_DB,
      `tenants t WHERE database_binding IS NOT NULL AND NOT EXISTS
         (SELECT 1 FROM tenant_databases d WHERE d.binding = t.database_binding AND d.tenant_id = t.id)`,
    ),
  ).toBe(0);
}

describe("reclaiming unverified sign-ups", () => {
  it("warns, then removes an 8-day-old tenant of an unverified owner, wipes its database and frees it; verified, young and paying tenants stay", async () => {
    const stale = await createTenant();
    const verified = await createTenant();
    const young = await createTenant();
    const paying = await createTenant();
    await markEmailVerified(verified.owner.id);
    for (const t of [stale, verified, paying]) await age(t, 8);
    await age(young, 4);
    await env.CONTROL_DB.prepare(
      "INSERT INTO subscriptions (tenant_id, stripe_customer_id, stripe_subscription_id, status, plan, synced_at) VALUES (?, 'cus_x', 'sub_x', 'active', 'pro', ?)",
    )
      .bind(paying.tenant.id, Date.now())
      .run();
    // The meter holds state for the tenant. (Through an RPC, not a request: an isolate's lease
    // reported after the wipe would write again; in production the registry cache grace and the
    // cron interval keep removal far behind the last request.)
    await meterFor(env.TENANT_METER, stale.tenant.id).refresh(stale.tenant.id);
    const binding = stale.tenant.databaseBinding!;
    const auditBefore = await count(env.CONTROL_DB, "platform_audit_log");

    // Past the window, but never told: warned first, with a fresh verification link.
    const now = Date.now();
    const nothing = { warned: 0, marked: 0, reclaimed: 0, failed: 0 };
    expect(await reclaimUnverifiedTenants(env, now)).toEqual({ ...nothing, warned: 1 });
    const mail = (await lastMail(stale.owner.email, WARNING))!;
    expect(mail.subject).toBe(`Verify your email to keep Org ${stale.slug} on Tenantry`);
    expect(mail.text).toContain(`http://${stale.slug}.localhost:8787/verify-email?token=`);
    for (const t of [verified, young, paying]) {
      expect(await rows("SELECT reclaim_warned_at FROM tenants WHERE id = ?", t.tenant.id)).toEqual(
        [{ reclaim_warned_at: null }],
      );
    }
    expect(await reclaimUnverifiedTenants(env, now + 60_000)).toEqual(nothing);
    // Its logo goes with it; another tenant's stays.
    await env.BRANDING.put(`tenants/${stale.tenant.id}/logo`, "png");
    await env.BRANDING.put(`tenants/${verified.tenant.id}/logo`, "png");
    // A day later it goes.
    expect(await reclaimUnverifiedTenants(env, now + DAY)).toEqual({
      ...nothing,
      marked: 1,
      reclaimed: 1,
    });

    expect(await traces(stale.tenant.id)).toEqual({
      tenants: 0,
      tenant_databases: 0,
      user_tenants: 0,
      auth_tokens: 0,
      subscriptions: 0,
      entitlement_overrides: 0,
    });
    expect(await count(env.CONTROL_DB, `users WHERE id = '${stale.owner.id}'`)).toBe(0);
    expect(await env.BRANDING.head(`tenants/${stale.tenant.id}/logo`)).toBeNull();
    expect(await env.BRANDING.head(`tenants/${verified.tenant.id}/logo`)).not.toBeNull();
    // Free and empty.
    expect(await rows("SELECT tenant_id FROM tenant_databases WHERE binding = ?", binding)).toEqual(
      [{ tenant_id: null }],
    );
    const d1 = (env as unknown as Record<string, D1Database>)[binding]!;
    expect(
      await count(
        d1,
        "sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'",
      ),
    ).toBe(0);
    await runInDurableObject(meterFor(env.TENANT_METER, stale.tenant.id), async (_, state) => {
      expect(
        state.storage.sql
          .exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '_cf_%'")
          .toArray(),
      ).toEqual([]);
    });
    // Audited once, without secrets.
    const audit = await rows(
      "SELECT * FROM platform_audit_log WHERE tenant_id = ?",
      stale.tenant.id,
    );
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      id: expect.stringMatching(/^aud_/),
      actor_type: "system",
      actor_id: "reclaim",
      action: "tenant.reclaim",
      target_type: "tenant",
      target_id: stale.tenant.id,
      reason: "owner email not verified within 7 days of sign-up",
    });
    expect(JSON.parse(audit[0]!.before)).toMatchObject({
      slug: stale.slug,
      database_binding: binding,
      owner_user_id: stale.owner.id,
      owner_email: stale.owner.email,
    });
    expect(audit[0]!.before + audit[0]!.after).not.toMatch(/hash|token|password/i);
    // The others are untouched.
    for (const t of [verified, young, paying]) {
      expect((await api("GET", "/v1/me", { slug: t.slug, token: t.owner.token })).status).toBe(200);
      expect((await traces(t.tenant.id)).tenant_databases).toBe(1);
    }
    expectProblem(await api("GET", "/v1/me", { slug: stale.slug, token: stale.owner.token }), 404);
    await expectPoolConsistent();

    // A second run changes nothing more.
    expect(await reclaimUnverifiedTenants(env, now + DAY + 60_000)).toEqual(nothing);
    expect(await count(env.CONTROL_DB, "platform_audit_log")).toBe(auditBefore + 1);

    // The slug and the database serve the next sign-up (the lowest free binding is claimed first).
    const next = await createTenant({ slug: stale.slug, email: stale.owner.email });
    expect(next.tenant.databaseBinding).toBe(binding);
    expect((await api("GET", "/v1/me", { slug: next.slug, token: next.owner.token })).status).toBe(
      200,
    );
  });

  it("keeps the owner's identity while it owns or belongs to another tenant", async () => {
    const first = await createTenant();
    const other = await createTenant();
    // The same identity signs up a second organisation (and the two are not equally old).
    const slug = uniqueSlug();
    await api("POST", "/v1/signup", {
      body: { organization_name: "Second", slug, email: first.owner.email, password: PASSWORD },
    });
    const confirmation = await lastMail(first.owner.email, "Confirm your new organisation");
    const second = await api("POST", "/v1/signup/confirm", {
      body: { token: tokenFromMail(confirmation!.text) },
    });
    expect(second.status, JSON.stringify(second.body)).toBe(201);
    await age(first, 9);
    await age(other, 9);
    const now = Date.now();
    expect(await reclaimUnverifiedTenants(env, now)).toMatchObject({ warned: 2 });
    expect(await reclaimUnverifiedTenants(env, now + DAY)).toMatchObject({ reclaimed: 2 });
    expect(await count(env.CONTROL_DB, `users WHERE id = '${first.owner.id}'`)).toBe(1);
    expect(await count(env.CONTROL_DB, `users WHERE id = '${other.owner.id}'`)).toBe(0);
    expect((await api("GET", "/v1/me", { slug, token: second.body.access_token })).status).toBe(
      200,
    );
  });

  it("waits out the registry cache before touching the database, and a crash mid-way is finished by the next run", async () => {
    const t = await createTenant();
    await age(t, 8);
    const cached = { ...env, REGISTRY_CACHE_TTL_SECONDS: "30" };
    const warnedAt = Date.now();
    expect(await reclaimUnverifiedTenants(cached, warnedAt)).toMatchObject({ warned: 1 });
    const now = warnedAt + DAY;
    // Marked: out of service at once, but other isolates may still hold the active row.
    expect(await reclaimUnverifiedTenants(cached, now)).toEqual({
      warned: 0,
      marked: 1,
      reclaimed: 0,
      failed: 0,
    });
    expectProblem(await api("GET", "/v1/me", { slug: t.slug, token: t.owner.token }), 404);
    expect((await traces(t.tenant.id)).tenant_databases).toBe(1);
    expect(
      await count(env.CONTROL_DB, `platform_audit_log WHERE tenant_id = '${t.tenant.id}'`),
    ).toBe(0);
    // A run that died after wiping the database: the tenant is still `reclaiming` and holds it.
    await env.CONTROL_DB.prepare("UPDATE tenants SET updated_at = ? WHERE id = ?")
      .bind(now - 60_000, t.tenant.id)
      .run();
    const d1 = (env as unknown as Record<string, D1Database>)[t.tenant.databaseBinding!]!;
    await d1.exec("DROP TABLE members");
    expect(await reclaimUnverifiedTenants(cached, now + 31_000)).toEqual({
      warned: 0,
      marked: 0,
      reclaimed: 1,
      failed: 0,
    });
    expect(await traces(t.tenant.id)).toMatchObject({ tenants: 0, tenant_databases: 0 });
    expect(
      await count(env.CONTROL_DB, `platform_audit_log WHERE tenant_id = '${t.tenant.id}'`),
    ).toBe(1);
    await expectPoolConsistent();
  });

  it("reads the window from UNVERIFIED_TENANT_TTL_DAYS", async () => {
    const t = await createTenant();
    const tenDays = { ...env, UNVERIFIED_TENANT_TTL_DAYS: "10" };
    await age(t, 8);
    const now = Date.now();
    expect(await reclaimUnverifiedTenants(tenDays, now)).toMatchObject({ warned: 0, marked: 0 });
    await age(t, 9.5);
    expect(await reclaimUnverifiedTenants(tenDays, now)).toMatchObject({ warned: 1, marked: 0 });
    expect(await reclaimUnverifiedTenants(tenDays, now + DAY)).toMatchObject({ reclaimed: 1 });
  });

  it("an owner who verifies after the warning keeps the tenant", async () => {
    const t = await createTenant();
    await age(t, 6.5);
    const now = Date.now();
    expect(await reclaimUnverifiedTenants(env, now)).toMatchObject({ warned: 1 });
    const token = tokenFromMail((await lastMail(t.owner.email, WARNING))!.text);
    const res = await api("POST", "/v1/auth/verify-email", { slug: t.slug, body: { token } });
    expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
    // (Tenants of earlier tests may get their warning now; none is reclaimed.)
    expect(await reclaimUnverifiedTenants(env, now + 2 * DAY)).toMatchObject({
      marked: 0,
      reclaimed: 0,
    });
    expect((await api("GET", "/v1/me", { slug: t.slug, token: t.owner.token })).status).toBe(200);
  });
});
