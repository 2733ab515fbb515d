/**
 * The support and operator-audit pages, run as React Router runs them: loaders and actions with
 * the worker's request context and an operator session cookie.
 */
import { describe, expect, it } from "vitest";
import { api, createTenant } from "../../../workers/api/test/helpers";
import { loader as auditLoader } from "../app/routes/audit";
import { loader as csvLoader } from "../app/routes/audit.csv";
import { action as supportAction, loader as supportLoader } from "../app/routes/support";
import { action as sessionAction, loader as sessionLoader } from "../app/routes/support.$sessionId";
import { operatorSignedIn, runPage } from "./helpers";

type Session = Awaited<ReturnType<typeof operatorSignedIn>>;

/** The status of a thrown or returned `data()` / Response. */
const statusOf = (r: any) => (r instanceof Response ? r.status : r?.init?.status);

describe("support pages", () => {
  it("start from the tenant's page, get a token once, use it, end it", async () => {
    const t = await createTenant();
    const op = await operatorSignedIn("support");

    const anonymous = await runPage(supportLoader, `/support?tenant=${t.slug}`);
    expect(anonymous.headers.get("location")).toBe(
      `/sign-in?next=${encodeURIComponent(`/support?tenant=${t.slug}`)}`,
    );
    const page = await runPage(supportLoader, `/support?tenant=${t.slug}`, { as: op });
    expect(page).toMatchObject({
      tenant: { id: t.tenant.id, slug: t.slug },
      canStart: true,
      canWrite: false,
      pending: [],
      active: [],
      csrf: op.csrf,
    });
    const missing = await runPage(supportLoader, "/support?tenant=no-such-tenant", { as: op });
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
    const forged = await runPage(supportAction, "/support", {
      as: op,
      form: { ...form, csrf: "x" },
    });
    expect(statusOf(forged)).toBe(403);
    const started = await runPage(supportAction, "/support", { as: op, form });
    expect(started.status).toBe(302);
    const sessionId = started.headers.get("location").split("/").pop();
    expect(sessionId).toMatch(/^sup_/);

    const listed = await runPage(supportLoader, `/support?tenant=${t.tenant.id}`, { as: op });
    expect(listed.active).toEqual([expect.objectContaining({ id: sessionId, ticketId: null })]);

    const params = { sessionId };
    const detail = await runPage(sessionLoader, `/support/${sessionId}`, { as: op, params });
    expect(detail).toMatchObject({ mine: true, live: true, session: { status: "active" } });
    const minted = await runPage(sessionAction, `/support/${sessionId}`, {
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

    const ended = await runPage(sessionAction, `/support/${sessionId}`, {
      as: op,
      params,
      form: { csrf: op.csrf, intent: "end", reason: "done helping" },
    });
    expect(ended).toEqual({ error: null, minted: null });
    const after = await runPage(sessionLoader, `/support/${sessionId}`, { as: op, params });
    expect(after).toMatchObject({ live: false, session: { status: "ended", endedBy: op.id } });

    const audit = await runPage(auditLoader, `/audit?operator=${encodeURIComponent(op.email)}`, {
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
    const requester = await operatorSignedIn("platform_admin");
    const approver = await operatorSignedIn("platform_admin");
    const started = await runPage(supportAction, "/support", {
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
    const pending = await runPage(supportLoader, "/support", { as: approver });
    expect(pending.pending.map((s: any) => s.id)).toContain(sessionId);

    const approve = (as: Session) =>
      runPage(supportAction, "/support", {
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

    const support = await operatorSignedIn("support");
    const denied = await approve(support);
    expect(statusOf(denied)).toBe(403);
  });
});

describe("operator audit pages", () => {
  it("the CSV download carries the page's filters", async () => {
    const op = await operatorSignedIn("read_only");
    const anonymous = await runPage(csvLoader, "/audit.csv");
    expect(anonymous.status).toBe(302);
    const res = await runPage(csvLoader, `/audit.csv?operator=${op.id}&action=tenant.suspend`, {
      as: op,
    });
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect((await res.text()).split("\r\n")).toHaveLength(2);
    const bad = await runPage(auditLoader, "/audit?from=soon", { as: op });
    expect(bad).toMatchObject({ data: [], error: "The request query is invalid." });
  });
});
