/** The tenant audit log as members read it. */
import { describe, expect, it } from "vitest";
import { api, createTenant, readOnlySupport } from "./helpers";

describe("GET /v1/audit-log", () => {
  it("is newest first, cursor paginated, and never shows secrets", async () => {
    const t = await createTenant();
    const as = { slug: t.slug, token: t.owner.token };
    const key = await api("POST", "/v1/api-keys", {
      ...as,
      body: { name: "k", permissions: ["members:read"] },
    });
    await api("DELETE", `/v1/api-keys/${key.body.id}`, as);
    const page = await api("GET", "/v1/audit-log?limit=2", as);
    expect(page.status).toBe(200);
    expect(page.body.data.map((e: { action: string }) => e.action)).toEqual([
      "api_key.revoke",
      "api_key.create",
    ]);
    expect(page.body.data[0]).toMatchObject({
      actor: { type: "user", id: t.owner.id },
      target: { type: "api_key", id: key.body.id },
    });
    const rest = await api("GET", `/v1/audit-log?limit=100&cursor=${page.body.next_cursor}`, as);
    expect(rest.body.data.map((e: { action: string }) => e.action)).toEqual(
      expect.arrayContaining(["tenant.create", "member.join", "session.create"]),
    );
    expect(JSON.stringify([page.body, rest.body])).not.toContain(key.body.key);
  });
});

describe("GET /v1/audit-log filters", () => {
  it("narrows by action, by actor and by time, and pages within the filter", async () => {
    const t = await createTenant();
    const as = { slug: t.slug, token: t.owner.token };
    for (const name of ["A", "B", "C"]) {
      await api("PATCH", "/v1/settings", { ...as, body: { name } });
    }
    const renames = await api("GET", "/v1/audit-log?action=tenant.rename&limit=2", as);
    expect(renames.body.data.map((e: { after: { name: string } }) => e.after.name)).toEqual([
      "C",
      "B",
    ]);
    const rest = await api(
      "GET",
      `/v1/audit-log?action=tenant.rename&limit=2&cursor=${renames.body.next_cursor}`,
      as,
    );
    expect(rest.body.data.map((e: { after: { name: string } }) => e.after.name)).toEqual(["A"]);
    expect(rest.body.next_cursor).toBeNull();

    const byOwner = await api("GET", `/v1/audit-log?actor_type=user&actor_id=${t.owner.id}`, as);
    expect(byOwner.body.data.length).toBeGreaterThan(3);
    expect(
      byOwner.body.data.every((e: { actor: { id: string } }) => e.actor.id === t.owner.id),
    ).toBe(true);
    const nobody = await api("GET", "/v1/audit-log?actor_id=usr_nobody", as);
    expect(nobody.body.data).toEqual([]);

    const future = new Date(Date.now() + 60_000).toISOString();
    expect((await api("GET", `/v1/audit-log?from=${future}`, as)).body.data).toEqual([]);
    const past = encodeURIComponent(new Date(Date.now() - 3_600_000).toISOString());
    expect((await api("GET", `/v1/audit-log?to=${past}`, as)).body.data).toEqual([]);
    expect((await api("GET", "/v1/audit-log?action=DROP TABLE", as)).status).toBe(400);
  });

  it("names the operator and the mode on entries written under support access", async () => {
    const t = await createTenant();
    const { ctx, token, session } = await readOnlySupport(t);
    await api("GET", "/v1/members", { slug: t.slug, token });
    const log = await api("GET", "/v1/audit-log?actor_type=support", {
      slug: t.slug,
      token: t.owner.token,
    });
    expect(log.body.data.map((e: { action: string }) => e.action)).toEqual(
      expect.arrayContaining(["support.start", "support.request"]),
    );
    for (const entry of log.body.data) {
      expect(entry.actor).toEqual({ type: "support", id: session.id });
      expect(entry.support).toEqual({
        operator: { id: ctx.operator.id, email: ctx.operator.email },
        mode: "read",
      });
    }
    const mine = await api("GET", "/v1/audit-log?actor_type=user", {
      slug: t.slug,
      token: t.owner.token,
    });
    expect(mine.body.data.every((e: { support: unknown }) => e.support === null)).toBe(true);
  });
});
