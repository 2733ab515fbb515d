/**
 * The support and operator-audit pages, run as React Router runs them: loaders and actions with
 * the worker's request context and an operator session cookie.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { controlDb } from "@tenantry/core";
import { randomSecret, sha256Hex } from "@tenantry/core/crypto";
import { newId } from "@tenantry/schema";
import { type OperatorRole, operatorSessions } from "@tenantry/schema/control";
import { RouterContextProvider } from "react-router";
import { describe, expect, it } from "vitest";
import { api, createTenant } from "../../../workers/api/test/helpers";
import { loader as auditLoader } from "../app/routes/audit";
import { loader as csvLoader } from "../app/routes/audit.csv";
import { action as supportAction, loader as supportLoader } from "../app/routes/support";
import { action as sessionAction, loader as sessionLoader } from "../app/routes/support.$sessionId";
import { sessionCookieName } from "../server/auth";
import { adminRequest, newAdminRequest } from "../server/request";
import { ADMIN, operatorWithToken } from "./helpers";

/** An operator signed in to the pages: a live session row and its cookie. */
async function signedIn(role: OperatorRole) {
  const op = await operatorWithToken(role);
  const secret = randomSecret();
  const csrf = randomSecret();
  const now = Date.now();
  await controlDb(env)
    .insert(operatorSessions)
    .values({
      id: newId("operatorSession"),
      operatorId: op.id,
      secretHash: await sha256Hex(secret),
      csrfToken: csrf,
      createdAt: now,
      lastSeenAt: now,
      expiresAt: now + 3_600_000,
    });
  return { ...op, csrf, cookie: `${sessionCookieName(env)}=${secret}` };
}

type Session = Awaited<ReturnType<typeof signedIn>>;

/** Runs a loader or action on `path`; a thrown answer (redirect, 403) is returned too. */
async function run<T>(
  fn: (args: never) => Promise<T>,
  path: string,
  opts: { as?: Session; form?: Record<string, string>; params?: Record<string, string> } = {},
): Promise<any> {
  const ctx = createExecutionContext();
  const request = new Request(`${ADMIN}${path}`, {
    method: opts.form ? "POST" : "GET",
    headers: opts.as ? { cookie: opts.as.cookie } : {},
    body: opts.form ? new URLSearchParams(opts.form) : undefined,
  });
  const context = new RouterContextProvider();
  context.set(adminRequest, newAdminRequest(request, env, ctx));
  try {
    return await fn({ request, context, params: opts.params ?? {} } as never);
  } catch (thrown) {
    return thrown;
  } finally {
    await waitOnExecutionContext(ctx);
  }
}

/** The status of a thrown or returned `data()` / Response. */
const statusOf = (r: any) => (r instanceof Response ? r.status : r?.init?.status);

describe("support pages", () => {
  it("start from the tenant's page, get a token once, use it, end it", async () => {
    const t = await createTenant();
    const op = await signedIn("support");

    const anonymous = await run(supportLoader, `/support?tenant=${t.slug}`);
    expect(anonymous.headers.get("location")).toBe(
      `/sign-in?next=${encodeURIComponent(`/support?tenant=${t.slug}`)}`,
    );
    const page = await run(supportLoader, `/support?tenant=${t.slug}`, { as: op });
    expect(page).toMatchObject({
      tenant: { id: t.tenant.id, slug: t.slug },
      canStart: true,
      canWrite: false,
      pending: [],
      active: [],
      csrf: op.csrf,
    });
    const missing = await run(supportLoader, "/support?tenant=no-such-tenant", { as: op });
    expect(missing).toMatchObject({ tenant: null, error: "No tenant has this slug or id." });

    const form = {
      csrf: op.csrf,
      intent: "start",
      tenantId: t.tenant.id,
      reason: "owner asked for help with projects",
      ticketId: "",
      minutes: "10",
      mode: "read",
    };
    const forged = await run(supportAction, "/support", { as: op, form: { ...form, csrf: "x" } });
    expect(statusOf(forged)).toBe(403);
    const started = await run(supportAction, "/support", { as: op, form });
    expect(started.status).toBe(302);
    const sessionId = started.headers.get("location").split("/").pop();
    expect(sessionId).toMatch(/^sup_/);

    const listed = await run(supportLoader, `/support?tenant=${t.tenant.id}`, { as: op });
    expect(listed.active).toEqual([expect.objectContaining({ id: sessionId, ticketId: null })]);

    const params = { sessionId };
    const detail = await run(sessionLoader, `/support/${sessionId}`, { as: op, params });
    expect(detail).toMatchObject({ mine: true, live: true, session: { status: "active" } });
    const minted = await run(sessionAction, `/support/${sessionId}`, {
      as: op,
      params,
      form: { csrf: op.csrf, intent: "token" },
    });
    expect(minted.minted).toMatchObject({
      tenantHost: `${t.slug}.localhost:8787`,
      tenantUrl: `http://${t.slug}.localhost:8787`,
    });
    const me = await api("GET", "/v1/me", { slug: t.slug, token: minted.minted.token });
    expect(me.body.support).toMatchObject({ session_id: sessionId, mode: "read" });

    const ended = await run(sessionAction, `/support/${sessionId}`, {
      as: op,
      params,
      form: { csrf: op.csrf, intent: "end", reason: "done helping" },
    });
    expect(ended).toEqual({ error: null, minted: null });
    const after = await run(sessionLoader, `/support/${sessionId}`, { as: op, params });
    expect(after).toMatchObject({ live: false, session: { status: "ended", endedBy: op.id } });

    const audit = await run(auditLoader, `/audit?operator=${encodeURIComponent(op.email)}`, {
      as: op,
    });
    expect(audit.data.map((e: any) => [e.action, e.reason])).toEqual([
      ["support.end", "done helping"],
      ["support.token", "owner asked for help with projects"],
      ["support.start", "owner asked for help with projects"],
    ]);
    expect(audit.data[0].changes).toContainEqual({
      field: "status",
      before: "active",
      after: "ended",
    });
  });

  it("a second platform admin approves write access from the page; the requester cannot", async () => {
    const t = await createTenant();
    const requester = await signedIn("platform_admin");
    const approver = await signedIn("platform_admin");
    const started = await run(supportAction, "/support", {
      as: requester,
      form: {
        csrf: requester.csrf,
        intent: "start",
        tenantId: t.tenant.id,
        reason: "repair a broken import",
        minutes: "15",
        mode: "write",
      },
    });
    const sessionId = started.headers.get("location").split("/").pop();
    const pending = await run(supportLoader, "/support", { as: approver });
    expect(pending.pending.map((s: any) => s.id)).toContain(sessionId);

    const approve = (as: Session) =>
      run(supportAction, "/support", {
        as,
        form: { csrf: as.csrf, intent: "approve", sessionId, reason: "ticket checked" },
      });
    const own = await approve(requester);
    expect(statusOf(own)).toBe(403);
    expect(own.data.error).toBe("A second operator must approve write access.");
    expect(await approve(approver)).toEqual({
      error: null,
      done: "Approved: write access is active.",
    });

    const support = await signedIn("support");
    const denied = await approve(support);
    expect(statusOf(denied)).toBe(403);
  });
});

describe("operator audit pages", () => {
  it("the CSV download carries the page's filters", async () => {
    const op = await signedIn("read_only");
    const anonymous = await run(csvLoader, "/audit.csv");
    expect(anonymous.status).toBe(302);
    const res = await run(csvLoader, `/audit.csv?operator=${op.id}&action=tenant.suspend`, {
      as: op,
    });
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect((await res.text()).split("\r\n")).toHaveLength(2);
    const bad = await run(auditLoader, "/audit?from=soon", { as: op });
    expect(bad).toMatchObject({ data: [], error: "The request query is invalid." });
  });
});
