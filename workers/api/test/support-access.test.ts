/**
 * Support access (issue 10, section 4): an operator's time-boxed token, read-only unless a second
 * platform admin approves, accepted on its tenant's host only, refused once ended or expired, and
 * recorded in the tenant's own audit log with mail to its owners.
 */
import { env } from "cloudflare:workers";
import {
  approveSupportAccess,
  endExpiredSupportAccess,
  endSupportAccess,
  listSupportSessions,
  mintSupportToken,
  startSupportAccess,
} from "@tenantry/core";
import { newId } from "@tenantry/schema";
import { importJWK, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { cachedSession } from "../src/services/session-cache";
import {
  addMember,
  api,
  auditRows,
  count,
  createTenant,
  expectProblem,
  lastMail,
  markEmailVerified,
  operatorCtx,
  readOnlySupport,
  writeSupport,
} from "./helpers";

/** Lets this isolate's cached copy of a support session lapse, as SESSION_CACHE_TTL_SECONDS does. */
const lapseCache = (sid: string) => cachedSession(sid, Date.now() + 10_001);

const supportRow = (id: string) =>
  env.CONTROL_DB.prepare("SELECT * FROM support_sessions WHERE id = ?")
    .bind(id)
    .first<Record<string, any>>();

describe("read-only support access", () => {
  it("reads as the owner, refuses writes, and the tenant sees it all", async () => {
    const t = await createTenant();
    const { ctx, session, token } = await readOnlySupport(t);
    expect(session).toMatchObject({ status: "active", mode: "read", userId: t.owner.id });
    expect(session.expiresAt! - session.startedAt!).toBe(15 * 60_000);
    const as = { slug: t.slug, token };

    expect((await api("GET", "/v1/members", as)).status).toBe(200);
    const me = await api("GET", "/v1/me", as);
    expect(me.body).toMatchObject({
      user: { id: t.owner.id, email: t.owner.email },
      role: "owner",
      support: {
        session_id: session.id,
        mode: "read",
        operator: { id: ctx.operator.id, email: ctx.operator.email },
      },
    });
    expectProblem(
      await api("POST", "/v1/invitations", {
        ...as,
        body: { email: "x@example.com", role: "viewer" },
      }),
      403,
      "support_read_only",
    );
    expectProblem(await api("DELETE", `/v1/members/${session.id}`, as), 403, "support_read_only");

    const log = await api("GET", "/v1/audit-log?limit=50", { slug: t.slug, token: t.owner.token });
    const entries = log.body.data as any[];
    const start = entries.find((e) => e.action === "support.start");
    expect(start).toMatchObject({
      actor: { type: "support", id: session.id },
      target: { type: "support_session", id: session.id },
      after: {
        operator: { id: ctx.operator.id, email: ctx.operator.email },
        reason: "customer asked why an import failed",
        mode: "read",
        user_id: t.owner.id,
      },
    });
    const requests = entries
      .filter((e) => e.action === "support.request")
      .map((e) => [e.after.method, e.after.path, e.after.status]);
    expect(requests).toEqual(
      expect.arrayContaining([
        ["GET", "/v1/members", 200],
        ["GET", "/v1/me", 200],
        ["POST", "/v1/invitations", 403],
        ["DELETE", `/v1/members/${session.id}`, 403],
      ]),
    );
    expect(requests).toHaveLength(4);
    // The owner's own requests are not support requests.
    expect(entries.every((e) => e.actor.type !== "support" || e.actor.id === session.id)).toBe(
      true,
    );

    const mail = await lastMail(t.owner.email, "Support access");
    expect(mail?.subject).toContain("started");
    expect(mail?.text).toContain(ctx.operator.email);
    expect(mail?.text).toContain("customer asked why an import failed");
  });

  it("mails every owner, names the impersonated user, and defaults to the first owner", async () => {
    const t = await createTenant();
    const second = await addMember(t, "owner");
    const viewer = await addMember(t, "viewer");
    const ctx = operatorCtx();
    const session = await startSupportAccess({
      ctx,
      input: { tenantId: t.tenant.id, userId: viewer.userId, reason: "viewer cannot see a page" },
    });
    const { token } = await mintSupportToken({ ctx, input: { sessionId: session.id } });
    const me = await api("GET", "/v1/me", { slug: t.slug, token });
    expect(me.body).toMatchObject({ role: "viewer", user: { id: viewer.userId } });
    expect((await lastMail(second.email, "Support access"))?.text).toContain(ctx.operator.email);
    // Owners only: the first owner's mail is there too, the viewer's is not.
    expect(await lastMail(t.owner.email, "Support access")).not.toBeNull();
    expect(await count(env.CONTROL_DB, `mail_outbox WHERE "to" = '${viewer.email}'`)).toBe(0);
  });

  it("is refused on another tenant's host (401)", async () => {
    const [a, b] = [await createTenant(), await createTenant()];
    const { token } = await readOnlySupport(a);
    expectProblem(await api("GET", "/v1/members", { slug: b.slug, token }), 401, "unauthorized");
  });

  it("a support token signed with any other key (the access-token key, say) → 401", async () => {
    const t = await createTenant();
    const { token } = await readOnlySupport(t);
    const claims = JSON.parse(atob(token.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/")));
    const forged = await new SignJWT(claims)
      .setProtectedHeader({ alg: "ES256", typ: "support+jwt" })
      .sign(await importJWK(JSON.parse(env.JWT_PRIVATE_KEY), "ES256"));
    expectProblem(await api("GET", "/v1/members", { slug: t.slug, token: forged }), 401);
    // The same claims under the support key are accepted.
    expect((await api("GET", "/v1/members", { slug: t.slug, token })).status).toBe(200);
  });

  it("needs a reason, a support role and at most 60 minutes", async () => {
    const t = await createTenant();
    const start = (ctx = operatorCtx(), input: Record<string, unknown> = {}) =>
      startSupportAccess({ ctx, input: { tenantId: t.tenant.id, reason: "why", ...input } });
    await expect(start(operatorCtx("billing"))).rejects.toMatchObject({ status: 403 });
    await expect(start(operatorCtx("read_only"))).rejects.toMatchObject({ status: 403 });
    await expect(start(undefined, { reason: " " })).rejects.toMatchObject({ status: 400 });
    await expect(start(undefined, { minutes: 61 })).rejects.toMatchObject({ status: 400 });
    const long = await start(undefined, { minutes: 60 });
    expect(long.expiresAt! - long.startedAt!).toBe(60 * 60_000);
  });
});

describe("ending and expiry", () => {
  it("an ended session is refused within the session-cache bound, and mailed", async () => {
    const t = await createTenant();
    const { ctx, session, token } = await readOnlySupport(t);
    const as = { slug: t.slug, token };
    expect((await api("GET", "/v1/members", as)).status).toBe(200);

    const ended = await endSupportAccess({ ctx, input: { sessionId: session.id } });
    expect(ended).toMatchObject({ status: "ended", endedBy: ctx.operator.id });
    lapseCache(session.id);
    expectProblem(await api("GET", "/v1/members", as), 401, "unauthorized");
    await expect(mintSupportToken({ ctx, input: { sessionId: session.id } })).rejects.toMatchObject(
      { status: 409, code: "support_session_inactive" },
    );

    const [end] = await auditRows(t, "support.end");
    expect(JSON.parse(end!.after)).toMatchObject({
      operator: { email: ctx.operator.email },
      reason: "customer asked why an import failed",
      ended_by: ctx.operator.email,
    });
    expect((await lastMail(t.owner.email, "ended"))?.text).toContain(ctx.operator.email);
  });

  it("an expired session is refused", async () => {
    const t = await createTenant();
    const { ctx, session, token } = await readOnlySupport(t);
    await env.CONTROL_DB.prepare("UPDATE support_sessions SET expires_at = ? WHERE id = ?")
      .bind(Date.now() - 1, session.id)
      .run();
    lapseCache(session.id);
    expectProblem(await api("GET", "/v1/members", { slug: t.slug, token }), 401);
    await expect(mintSupportToken({ ctx, input: { sessionId: session.id } })).rejects.toMatchObject(
      { status: 409 },
    );
  });

  it("the scheduled sweep ends expired sessions: the tenant sees the end, owners are mailed", async () => {
    const t = await createTenant();
    const { session } = await readOnlySupport(t);
    await env.CONTROL_DB.prepare("UPDATE support_sessions SET expires_at = ? WHERE id = ?")
      .bind(Date.now() - 1, session.id)
      .run();
    const requestId = newId("request");
    expect(await endExpiredSupportAccess(env, requestId)).toBeGreaterThanOrEqual(1);
    expect(await supportRow(session.id)).toMatchObject({ status: "ended", ended_by: "expiry" });
    const [end] = await auditRows(t, "support.end");
    expect(end).toMatchObject({
      actor_type: "support",
      actor_id: session.id,
      request_id: requestId,
    });
    expect(JSON.parse(end!.after)).toMatchObject({ ended_by: "expiry" });
    expect(await lastMail(t.owner.email, "ended")).not.toBeNull();
    // Nothing left to sweep for this session.
    await endExpiredSupportAccess(env, newId("request"));
    expect(await auditRows(t, "support.end")).toHaveLength(1);
  });

  it("a token expires with its session, and only its operator can mint one", async () => {
    const t = await createTenant();
    const ctx = operatorCtx();
    const session = await startSupportAccess({
      ctx,
      input: { tenantId: t.tenant.id, reason: "short look", minutes: 2 },
    });
    const { token, expiresAt } = await mintSupportToken({ ctx, input: { sessionId: session.id } });
    expect(expiresAt).toBe(session.expiresAt);
    const claims = JSON.parse(atob(token.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/")));
    expect(claims).toMatchObject({
      sub: t.owner.id,
      tid: t.tenant.id,
      sid: session.id,
      mode: "read",
      act: { sub: `operator:${ctx.operator.id}`, email: ctx.operator.email },
      exp: Math.floor(session.expiresAt! / 1000),
    });
    await expect(
      mintSupportToken({ ctx: operatorCtx("platform_admin"), input: { sessionId: session.id } }),
    ).rejects.toMatchObject({ status: 403 });
  });

  it("of two parallel ends exactly one wins, and the tenant sees one end", async () => {
    const t = await createTenant();
    const { ctx, session } = await readOnlySupport(t);
    const admin = operatorCtx("platform_admin");
    const results = await Promise.allSettled([
      endSupportAccess({ ctx, input: { sessionId: session.id } }),
      endSupportAccess({ ctx: admin, input: { sessionId: session.id } }),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(results.find((r) => r.status === "rejected")).toMatchObject({
      reason: { status: 409, code: "support_session_ended" },
    });
    expect(await auditRows(t, "support.end")).toHaveLength(1);
  });
});

describe("write access", () => {
  it("needs a platform admin and a second one's approval", async () => {
    const t = await createTenant();
    await expect(
      startSupportAccess({
        ctx: operatorCtx("support"),
        input: { tenantId: t.tenant.id, reason: "fix", mode: "write" },
      }),
    ).rejects.toMatchObject({ status: 403 });
    const requester = operatorCtx("platform_admin");
    const pending = await startSupportAccess({
      ctx: requester,
      input: { tenantId: t.tenant.id, reason: "fix", mode: "write", minutes: 30 },
    });
    expect(pending).toMatchObject({ status: "pending_approval", startedAt: null, expiresAt: null });
    await expect(
      mintSupportToken({ ctx: requester, input: { sessionId: pending.id } }),
    ).rejects.toMatchObject({ status: 409 });
    // Nothing happened in the tenant yet.
    expect(await auditRows(t, "support.start")).toHaveLength(0);
    await expect(
      approveSupportAccess({ ctx: requester, input: { sessionId: pending.id } }),
    ).rejects.toMatchObject({ status: 403, code: "support_approval_by_requester" });
    await expect(
      approveSupportAccess({ ctx: operatorCtx("support"), input: { sessionId: pending.id } }),
    ).rejects.toMatchObject({ status: 403 });

    // Two admins approve at once: exactly one approval wins.
    const [one, two] = [operatorCtx("platform_admin"), operatorCtx("platform_admin")];
    const results = await Promise.allSettled([
      approveSupportAccess({ ctx: one, input: { sessionId: pending.id } }),
      approveSupportAccess({ ctx: two, input: { sessionId: pending.id } }),
    ]);
    const won = results.filter((r) => r.status === "fulfilled");
    expect(won).toHaveLength(1);
    expect(results.find((r) => r.status === "rejected")).toMatchObject({
      reason: { status: 409, code: "support_session_not_pending" },
    });
    const row = await supportRow(pending.id);
    expect(row).toMatchObject({ status: "active" });
    expect([one.operator.id, two.operator.id]).toContain(row!.approved_by);
    expect(row!.expires_at - row!.started_at).toBe(30 * 60_000);
    expect(await auditRows(t, "support.start")).toHaveLength(1);
    const listed = await listSupportSessions({
      ctx: operatorCtx("read_only"),
      input: { tenantId: t.tenant.id, status: "active" },
    });
    expect(listed.map((s) => s.id)).toEqual([pending.id]);
  });

  it("an approval racing an end: one decides the request, and the tenant log stays consistent", async () => {
    const t = await createTenant();
    const requester = operatorCtx("platform_admin");
    const pending = await startSupportAccess({
      ctx: requester,
      input: { tenantId: t.tenant.id, reason: "fix", mode: "write" },
    });
    const [approval, end] = await Promise.allSettled([
      approveSupportAccess({
        ctx: operatorCtx("platform_admin"),
        input: { sessionId: pending.id },
      }),
      endSupportAccess({ ctx: requester, input: { sessionId: pending.id } }),
    ]);
    expect(end.status).toBe("fulfilled");
    expect((await supportRow(pending.id))?.status).toBe("ended");
    // Approved first: a start and an end; cancelled first: the approval lost and nothing happened.
    const logged = approval.status === "fulfilled" ? 1 : 0;
    if (approval.status === "rejected") {
      expect(approval.reason).toMatchObject({ status: 409, code: "support_session_not_pending" });
    }
    expect(await auditRows(t, "support.start")).toHaveLength(logged);
    expect(await auditRows(t, "support.end")).toHaveLength(logged);
  });

  it("writes as the user, named as the support session; restricted actions are refused", async () => {
    const t = await createTenant();
    await markEmailVerified(t.owner.id);
    const viewer = await addMember(t, "viewer");
    const { session, token } = await writeSupport(t);
    const as = { slug: t.slug, token };

    const invited = await api("POST", "/v1/invitations", {
      ...as,
      body: { email: `new-${crypto.randomUUID()}@example.com`, role: "viewer" },
    });
    expect(invited.status, JSON.stringify(invited.body)).toBe(201);
    const [created] = await auditRows(t, "invitation.create");
    expect(created).toMatchObject({ actor_type: "support", actor_id: session.id });

    const patch = (id: string, role: string) =>
      api("PATCH", `/v1/members/${id}`, { ...as, body: { role } });
    const members = (await api("GET", "/v1/members", as)).body.data as any[];
    const ownerMember = members.find((m) => m.role === "owner");
    const restricted = [
      await api("POST", "/v1/api-keys", { ...as, body: { name: "k", permissions: [] } }),
      await api("POST", "/v1/billing/checkout", {
        ...as,
        body: { plan: "pro", interval: "month" },
      }),
      await api("POST", "/v1/billing/portal", as),
      await api("POST", "/v1/auth/logout", as),
      await patch(ownerMember.id, "admin"),
      await patch(viewer.memberId, "owner"),
      await api("DELETE", `/v1/members/${ownerMember.id}`, as),
      await api("POST", "/v1/invitations", {
        ...as,
        body: { email: "new-owner@example.com", role: "owner" },
      }),
    ];
    for (const res of restricted) expectProblem(res, 403, "support_access_restricted");
    // Other member changes are allowed.
    expect((await patch(viewer.memberId, "member")).status).toBe(200);

    const requests = (await auditRows(t, "support.request")).map((r) => JSON.parse(r.after));
    expect(requests.filter((r) => r.status === 403)).toHaveLength(restricted.length);
    expect(requests.every((r) => r.mode === "write")).toBe(true);
  });
});
