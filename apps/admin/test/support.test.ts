/**
 * Support access from the admin side (issue 10, section 4): the JSON API over core's verbs, the
 * token working on the tenant's host as core's tests show, and one operator-audit entry per
 * mutation, committed with the support_sessions change.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { cachedSession } from "../../../workers/api/src/services/session-cache";
import {
  api,
  createTenant,
  expectProblem,
  markEmailVerified,
  type TestTenant,
} from "../../../workers/api/test/helpers";
import { adminFetch, operatorWithToken } from "./helpers";

type Op = Awaited<ReturnType<typeof operatorWithToken>>;

async function call(op: Op, method: string, path: string, body?: unknown) {
  const res = await adminFetch(`/api/v1${path}`, {
    method,
    token: op.token,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

const start = (op: Op, t: TestTenant, extra: Record<string, unknown> = {}) =>
  call(op, "POST", "/support-sessions", {
    tenant_id: t.tenant.id,
    reason: "customer asked why an import failed",
    ...extra,
  });

/** The operator audit entries about one support session. */
async function operatorAudit(sessionId: string, action?: string) {
  const { results } = await env.CONTROL_DB.prepare(
    "SELECT * FROM platform_audit_log WHERE target_type = 'support_session' AND target_id = ? AND (?2 IS NULL OR action = ?2) ORDER BY id",
  )
    .bind(sessionId, action ?? null)
    .all<Record<string, any>>();
  return results;
}

describe("read-only support access through the admin API", () => {
  it("starts, mints a token for the tenant host, reads, refuses writes, and the tenant sees it", async () => {
    const t = await createTenant();
    const op = await operatorWithToken("support");
    const started = await start(op, t, { ticket_id: "T-42", minutes: 20 });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const session = started.body.session;
    expect(session).toMatchObject({
      tenant_id: t.tenant.id,
      tenant_slug: t.slug,
      operator: { id: op.id, email: op.email },
      user_id: t.owner.id,
      mode: "read",
      status: "active",
      ticket_id: "T-42",
    });
    expect(Date.parse(session.expires_at) - Date.parse(session.started_at)).toBe(20 * 60_000);

    const minted = await call(op, "POST", `/support-sessions/${session.id}/token`);
    expect(minted.status, JSON.stringify(minted.body)).toBe(200);
    expect(minted.body).toMatchObject({
      token: expect.any(String),
      tenant_host: `${t.slug}.localhost:8787`,
    });
    expect(Date.parse(minted.body.expires_at)).toBeLessThanOrEqual(Date.now() + 15 * 60_000);

    const as = { slug: t.slug, token: minted.body.token };
    expect((await api("GET", "/v1/members", as)).status).toBe(200);
    expectProblem(
      await api("POST", "/v1/invitations", {
        ...as,
        body: { email: "x@example.com", role: "viewer" },
      }),
      403,
      "support_read_only",
    );

    const log = await api("GET", "/v1/audit-log?limit=50", { slug: t.slug, token: t.owner.token });
    expect(log.status).toBe(200);
    expect((log.body.data as any[]).find((e) => e.action === "support.start")).toMatchObject({
      actor: { type: "support", id: session.id },
      after: {
        operator: { id: op.id, email: op.email },
        reason: "customer asked why an import failed",
        ticket_id: "T-42",
        mode: "read",
      },
    });

    const [entry, ...more] = await operatorAudit(session.id, "support.start");
    expect(more).toEqual([]);
    expect(entry).toMatchObject({
      actor_type: "operator",
      actor_id: op.id,
      action: "support.start",
      tenant_id: t.tenant.id,
      reason: "customer asked why an import failed",
      before: null,
      request_id: expect.stringMatching(/^req_/),
    });
    expect(JSON.parse(entry!.after)).toMatchObject({ status: "active", mode: "read" });
    // Minting is recorded too (who held a credential into the tenant), never the token.
    const [token] = await operatorAudit(session.id, "support.token");
    expect(token).toMatchObject({ actor_id: op.id, reason: "customer asked why an import failed" });
    expect(JSON.parse(token!.after)).toEqual({ mode: "read", expires_at: minted.body.expires_at });
  });

  it("lists sessions of a tenant and platform-wide, with their tenant's slug", async () => {
    const t = await createTenant();
    const op = await operatorWithToken("support");
    const { body } = await start(op, t);
    const viewer = await operatorWithToken("read_only");
    const mine = await call(viewer, "GET", `/support-sessions?tenant_id=${t.tenant.id}`);
    expect(mine.status).toBe(200);
    expect(mine.body.data).toEqual([
      expect.objectContaining({ id: body.session.id, tenant_slug: t.slug, status: "active" }),
    ]);
    const all = await call(viewer, "GET", "/support-sessions?status=active&limit=100");
    expect(all.body.data.map((s: any) => s.id)).toContain(body.session.id);
    const pending = await call(viewer, "GET", "/support-sessions?status=pending_approval");
    expect(pending.body.data.map((s: any) => s.id)).not.toContain(body.session.id);
  });

  it("ending refuses the token (within the session-cache bound) and further tokens", async () => {
    const t = await createTenant();
    const op = await operatorWithToken("support");
    const { body } = await start(op, t);
    const id = body.session.id;
    const minted = await call(op, "POST", `/support-sessions/${id}/token`);
    const as = { slug: t.slug, token: minted.body.token };
    expect((await api("GET", "/v1/members", as)).status).toBe(200);

    expect((await call(op, "POST", `/support-sessions/${id}/end`, {})).status).toBe(400);
    const ended = await call(op, "POST", `/support-sessions/${id}/end`, { reason: "issue fixed" });
    expect(ended.status, JSON.stringify(ended.body)).toBe(200);
    expect(ended.body.session).toMatchObject({ status: "ended", ended_by: op.id });
    // What SESSION_CACHE_TTL_SECONDS does in time: this isolate's cached row lapses.
    cachedSession(id, Date.now() + 10_001);
    expectProblem(await api("GET", "/v1/members", as), 401);
    const again = await call(op, "POST", `/support-sessions/${id}/token`);
    expect(again).toMatchObject({ status: 409, body: { code: "support_session_inactive" } });

    const end = await operatorAudit(id, "support.end");
    expect(end).toHaveLength(1);
    expect(end[0]).toMatchObject({ actor_id: op.id, reason: "issue fixed" });
    expect(JSON.parse(end[0]!.before)).toMatchObject({ status: "active" });
    expect(JSON.parse(end[0]!.after)).toMatchObject({ status: "ended", ended_by: op.id });
  });

  it("only the operator who started it mints its token, each mint audited", async () => {
    const t = await createTenant();
    const op = await operatorWithToken("support");
    const { body } = await start(op, t);
    const other = await operatorWithToken("platform_admin");
    const res = await call(other, "POST", `/support-sessions/${body.session.id}/token`);
    expect(res.status).toBe(403);
    expect(await operatorAudit(body.session.id, "support.token")).toEqual([]);
    const own = await call(op, "POST", `/support-sessions/${body.session.id}/token`, {
      reason: "reproduce the import error",
    });
    expect(own.status).toBe(200);
    const [entry] = await operatorAudit(body.session.id, "support.token");
    expect(entry).toMatchObject({ actor_id: op.id, reason: "reproduce the import error" });
  });
});

describe("write access through the admin API", () => {
  it("needs support:write to ask and a second platform admin to approve", async () => {
    const t = await createTenant();
    const support = await operatorWithToken("support");
    const denied = await start(support, t, { mode: "write" });
    expect(denied).toMatchObject({ status: 403, body: { code: "forbidden" } });

    const requester = await operatorWithToken("platform_admin");
    const asked = await start(requester, t, { mode: "write", minutes: 30 });
    expect(asked.status).toBe(201);
    const id = asked.body.session.id;
    expect(asked.body.session).toMatchObject({ status: "pending_approval", expires_at: null });
    const early = await call(requester, "POST", `/support-sessions/${id}/token`);
    expect(early.status).toBe(409);

    const approve = (op: Op) =>
      call(op, "POST", `/support-sessions/${id}/approve`, { reason: "ticket T-9 checked" });
    expect(await approve(requester)).toMatchObject({
      status: 403,
      body: { code: "support_approval_by_requester" },
    });
    expect((await approve(support)).status).toBe(403);

    // Two admins approve at once: one wins, one entry.
    const [one, two] = await Promise.all([
      operatorWithToken("platform_admin"),
      operatorWithToken("platform_admin"),
    ]);
    const results = await Promise.all([approve(one), approve(two)]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    const approvals = await operatorAudit(id, "support.approve");
    expect(approvals).toHaveLength(1);
    const winner = results[0]!.status === 200 ? one : two;
    expect(approvals[0]).toMatchObject({ actor_id: winner.id, reason: "ticket T-9 checked" });
    expect(JSON.parse(approvals[0]!.before)).toMatchObject({ status: "pending_approval" });
    expect(JSON.parse(approvals[0]!.after)).toMatchObject({
      status: "active",
      approved_by: winner.id,
    });

    const minted = await call(requester, "POST", `/support-sessions/${id}/token`);
    expect(minted.status).toBe(200);
    await markEmailVerified(t.owner.id);
    const write = await api("POST", "/v1/invitations", {
      slug: t.slug,
      token: minted.body.token,
      body: { email: `x-${t.slug}@example.com`, role: "viewer" },
    });
    expect(write.status, JSON.stringify(write.body)).toBe(201);
  });
});

describe("operator audit of support mutations", () => {
  it("each mutation writes exactly one entry; refused and losing ones write none", async () => {
    const t = await createTenant();
    const op = await operatorWithToken("support");
    const admin = await operatorWithToken("platform_admin");
    const { body } = await start(op, t);
    const id = body.session.id;
    expect(await operatorAudit(id)).toHaveLength(1);

    // A read-only session is never pending: approving it is refused and writes nothing.
    const approve = await call(admin, "POST", `/support-sessions/${id}/approve`, {
      reason: "no such thing",
    });
    expect(approve.status).toBe(409);

    const end = (who: Op) => call(who, "POST", `/support-sessions/${id}/end`, { reason: "done" });
    const ends = await Promise.all([end(op), end(admin), end(op)]);
    expect(ends.map((r) => r.status).sort()).toEqual([200, 409, 409]);
    expect((await operatorAudit(id)).map((e) => e.action)).toEqual([
      "support.start",
      "support.end",
    ]);

    // A cancelled request: one start, one end, nothing in the tenant.
    const requester = await operatorWithToken("platform_admin");
    const asked = await start(requester, t, { mode: "write" });
    const cancelled = await call(
      requester,
      "POST",
      `/support-sessions/${asked.body.session.id}/end`,
      {
        reason: "asked by mistake",
      },
    );
    expect(cancelled.status).toBe(200);
    expect((await operatorAudit(asked.body.session.id)).map((e) => e.action)).toEqual([
      "support.start",
      "support.end",
    ]);
  });

  it("a start for an unknown tenant is a 404 and writes no entry", async () => {
    const op = await operatorWithToken("support");
    const res = await call(op, "POST", "/support-sessions", {
      tenant_id: "ten_0000000000NOSUCHTENANT00",
      reason: "nobody",
    });
    expect(res).toMatchObject({ status: 404 });
    const { n } = (await env.CONTROL_DB.prepare(
      "SELECT count(*) AS n FROM platform_audit_log WHERE actor_id = ?",
    )
      .bind(op.id)
      .first<{ n: number }>())!;
    expect(n).toBe(0);
  });
});
