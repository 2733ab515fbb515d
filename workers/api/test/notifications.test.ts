/**
 * In-app notifications (ADR 019): the one notify verb, each producer (a repeated delivery
 * creates one notification) and the routes that list them and mark them read.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import {
  endExpiredSupportAccess,
  endSupportAccess,
  meterFor,
  notify,
  readBilling,
  recordBillingChange,
  tenantDb,
} from "@tenantry/core";
import { describe, expect, it } from "vitest";
import { findTenantBySlug } from "../src/services/registry";
import {
  addMember,
  addNotification,
  addOverride,
  api,
  auditRows,
  createTenant,
  expectProblem,
  lastMail,
  markEmailVerified,
  readOnlySupport,
  setPastDue,
  type TestTenant,
  tenantD1,
  tokenFromMail,
} from "./helpers";

async function inbox(t: TestTenant, kind?: string) {
  const stmt = kind
    ? tenantD1(t).prepare("SELECT * FROM notifications WHERE kind = ? ORDER BY id").bind(kind)
    : tenantD1(t).prepare("SELECT * FROM notifications ORDER BY id");
  return (await stmt.all<Record<string, any>>()).results;
}

describe("notify", () => {
  it("ten parallel calls with one dedupe key create one notification, and say which did", async () => {
    const t = await createTenant();
    const db = tenantDb(env, t.tenant);
    const created = await Promise.all(
      Array.from({ length: 10 }, () =>
        notify(db, { kind: "support.started", dedupeKey: "same-event", title: "Once" }),
      ),
    );
    expect(created.filter(Boolean)).toHaveLength(1);
    expect(await inbox(t)).toMatchObject([
      { tenant_id: t.tenant.id, kind: "support.started", dedupe_key: "same-event", read_at: null },
    ]);
  });

  it("a dedupe key is unique per tenant, not across tenants", async () => {
    const [a, b] = [await createTenant(), await createTenant()];
    for (const t of [a, b]) {
      expect(
        await notify(tenantDb(env, t.tenant), {
          kind: "support.started",
          dedupeKey: "k",
          title: "x",
        }),
      ).toBe(true);
    }
  });
});

describe("producers", () => {
  it("an accepted invitation notifies once, however many acceptances race", async () => {
    const t = await createTenant();
    await markEmailVerified(t.owner.id);
    const email = `joiner-${t.slug}@example.com`;
    const invited = await api("POST", "/v1/invitations", {
      slug: t.slug,
      token: t.owner.token,
      body: { email, role: "member" },
    });
    expect(invited.status).toBe(201);
    const token = tokenFromMail((await lastMail(email))!.text);
    const results = await Promise.all(
      Array.from({ length: 3 }, () =>
        api("POST", "/v1/invitations/accept", {
          slug: t.slug,
          body: { token, password: "joiner password 1" },
        }),
      ),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(await inbox(t)).toMatchObject([
      {
        kind: "invitation.accepted",
        dedupe_key: `invitation.accepted:${invited.body.id}`,
        title: `${email} joined as member`,
        link: "/members",
      },
    ]);
  });

  it("a billing change notifies plan changed and payment failed once, however often it is applied", async () => {
    const t = await createTenant();
    await setPastDue(t, 1);
    const tenant = (await findTenantBySlug(env, t.slug))!;
    const row = (await readBilling(env, tenant.id))!;
    // A redelivered webhook and the sweep apply the same state in parallel, then once more.
    await Promise.all(
      Array.from({ length: 3 }, () =>
        recordBillingChange(env, tenant, row, { requestId: "test", ip: null }),
      ),
    );
    await recordBillingChange(env, tenant, row, { requestId: "test", ip: null });
    // The racing calls record the change once: one audit entry too.
    expect(await auditRows(t, "billing.update")).toHaveLength(1);
    const notices = await inbox(t);
    expect(notices.map((n) => n.kind).sort()).toEqual([
      "billing.payment_failed",
      "billing.plan_changed",
    ]);
    expect(notices.find((n) => n.kind === "billing.plan_changed")).toMatchObject({
      title: "Plan changed to Pro",
      link: "/billing",
    });
  });

  it("support access started and ended notify once each, even when an end races the sweep", async () => {
    const t = await createTenant();
    const { ctx, session } = await readOnlySupport(t);
    expect(await inbox(t, "support.started")).toMatchObject([
      { dedupe_key: `support.started:${session.id}`, link: "/audit-log" },
    ]);
    await env.CONTROL_DB.prepare("UPDATE support_sessions SET expires_at = ? WHERE id = ?")
      .bind(Date.now() - 1, session.id)
      .run();
    await Promise.allSettled([
      endSupportAccess({ ctx, input: { sessionId: session.id } }),
      endSupportAccess({ ctx, input: { sessionId: session.id } }),
      endExpiredSupportAccess(env, "test"),
    ]);
    expect(await inbox(t, "support.ended")).toHaveLength(1);
    expect(await inbox(t)).toHaveLength(2);
  });

  it("usage at 80% and 100% of a quota notifies once each per period, also when redelivered", async () => {
    const t = await createTenant();
    await addOverride(t, { type: "limit", key: "events", value: 10, hard: false, reason: "test" });
    const meter = meterFor(env.TENANT_METER, t.tenant.id);
    await meter.consume(t.tenant.id, { metric: "events", amount: 7 });
    await meter.flush();
    expect(await inbox(t)).toEqual([]);
    // Racing calls cross both thresholds and go past the (soft) quota.
    await Promise.all(
      Array.from({ length: 8 }, () => meter.consume(t.tenant.id, { metric: "events", amount: 1 })),
    );
    await Promise.all([meter.flush(), meter.flush()]);
    const notices = await inbox(t, "usage.threshold");
    expect(notices.map((n) => n.dedupe_key.split(":").at(-1)).sort()).toEqual(["100", "80"]);
    expect(notices.find((n) => n.dedupe_key.endsWith(":100"))).toMatchObject({
      title: "Quota reached: events (10)",
      link: "/usage",
    });
    // The meter crashed after telling the tenant but before recording it: it tells again.
    await runInDurableObject(meter as unknown as DurableObjectStub, (_, state) => {
      state.storage.sql.exec("UPDATE thresholds SET delivered_at = NULL");
    });
    await meter.consume(t.tenant.id, { metric: "events", amount: 5 });
    await meter.flush();
    expect(await inbox(t)).toHaveLength(2);
  });

  it("a quota without a limit or a gauge notifies nothing", async () => {
    const t = await createTenant();
    await addOverride(t, { type: "limit", key: "events", value: null, hard: false, reason: "t" });
    const meter = meterFor(env.TENANT_METER, t.tenant.id);
    await meter.consume(t.tenant.id, { metric: "events", amount: 1000 });
    await meter.flush();
    expect(await inbox(t)).toEqual([]);
  });
});

describe("routes", () => {
  const list = (t: TestTenant, token: string, query = "") =>
    api("GET", `/v1/notifications${query}`, { slug: t.slug, token });

  it("lists newest first with a cursor and the unread count", async () => {
    const t = await createTenant();
    const ids = [];
    for (const n of [1, 2, 3]) ids.push(await addNotification(t, { title: `n${n}` }));
    const first = await list(t, t.owner.token, "?limit=2");
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ unread_count: 3, next_cursor: ids[1] });
    expect(first.body.data.map((n: { title: string }) => n.title)).toEqual(["n3", "n2"]);
    expect(first.body.data[0]).toEqual({
      id: ids[2],
      kind: "invitation.accepted",
      title: "n3",
      body: null,
      link: null,
      read_at: null,
      created_at: expect.any(String),
    });
    const second = await list(t, t.owner.token, `?limit=2&cursor=${ids[1]}`);
    expect(second.body).toMatchObject({ unread_count: 3, next_cursor: null });
    expect(second.body.data.map((n: { title: string }) => n.title)).toEqual(["n1"]);
  });

  it("every role reads the inbox and marks one read; marking twice keeps the first time", async () => {
    const t = await createTenant();
    const id = await addNotification(t);
    await addNotification(t);
    const viewer = await addMember(t, "viewer");
    const token = viewer.tokens.access_token;
    expect((await list(t, token)).body.unread_count).toBe(2);
    const read = await api("POST", `/v1/notifications/${id}/read`, { slug: t.slug, token });
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ id, read_at: expect.any(String) });
    const again = await api("POST", `/v1/notifications/${id}/read`, { slug: t.slug, token });
    expect(again.body.read_at).toBe(read.body.read_at);
    expect((await list(t, t.owner.token)).body.unread_count).toBe(1);
  });

  it("an unknown id is 404", async () => {
    const t = await createTenant();
    expectProblem(
      await api("POST", "/v1/notifications/ntf_0000000000AAAAAAAAAAAAAAAA/read", {
        slug: t.slug,
        token: t.owner.token,
      }),
      404,
      "not_found",
    );
  });

  it("read-all marks every unread one, racing calls mark each once", async () => {
    const t = await createTenant();
    for (const _ of [1, 2, 3]) await addNotification(t);
    const results = await Promise.all(
      [1, 2].map(() =>
        api("POST", "/v1/notifications/read-all", { slug: t.slug, token: t.owner.token }),
      ),
    );
    expect(results.map((r) => r.body.marked).reduce((a, b) => a + b)).toBe(3);
    expect(results.every((r) => r.body.unread_count === 0)).toBe(true);
    expect((await list(t, t.owner.token)).body.unread_count).toBe(0);
  });
});
