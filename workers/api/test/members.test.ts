import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  addMember,
  api,
  auditRows,
  createApiKey,
  createTenant,
  expectProblem,
  markEmailVerified,
  tenantD1,
} from "./helpers";

describe("members", () => {
  it("lists members newest first with cursor pagination", async () => {
    const t = await createTenant();
    for (let i = 0; i < 3; i++) await addMember(t, "member");
    const first = await api("GET", "/v1/members?limit=2", { slug: t.slug, token: t.owner.token });
    expect(first.status).toBe(200);
    expect(first.body.data).toHaveLength(2);
    expect(first.body.next_cursor).toBe(first.body.data[1].id);
    const second = await api("GET", `/v1/members?limit=2&cursor=${first.body.next_cursor}`, {
      slug: t.slug,
      token: t.owner.token,
    });
    expect(second.body.data).toHaveLength(2);
    expect(second.body.next_cursor).toBeNull();
    const all = [...first.body.data, ...second.body.data].map((m: { id: string }) => m.id);
    expect(all).toEqual([...all].sort().reverse());
    expect(second.body.data.at(-1)).toMatchObject({ role: "owner", email: t.owner.email });
  });

  it("changes a role, effective on the member's next request, with an audit entry", async () => {
    const t = await createTenant();
    const m = await addMember(t, "viewer");
    const as = { slug: t.slug, token: m.tokens.access_token };
    expectProblem(await api("GET", "/v1/audit-log", as), 403);
    const res = await api("PATCH", `/v1/members/${m.memberId}`, {
      slug: t.slug,
      token: t.owner.token,
      body: { role: "admin" },
    });
    expect(res.status).toBe(200);
    expect(res.body.role).toBe("admin");
    expect((await api("GET", "/v1/audit-log", as)).status).toBe(200);
    const [entry] = await auditRows(t, "member.update");
    expect(entry).toMatchObject({
      actor_id: t.owner.id,
      target_id: m.memberId,
      request_id: res.headers.get("x-request-id"),
    });
    expect(JSON.parse(entry!.before).role).toBe("viewer");
    expect(JSON.parse(entry!.after).role).toBe("admin");
  });

  it("the last owner cannot be demoted or removed; with two owners one can go", async () => {
    const t = await createTenant();
    const [owner] = (await api("GET", "/v1/members", { slug: t.slug, token: t.owner.token })).body
      .data;
    expectProblem(
      await api("PATCH", `/v1/members/${owner.id}`, {
        slug: t.slug,
        token: t.owner.token,
        body: { role: "admin" },
      }),
      409,
      "last_owner",
    );
    expectProblem(
      await api("DELETE", `/v1/members/${owner.id}`, { slug: t.slug, token: t.owner.token }),
      409,
      "last_owner",
    );
    await addMember(t, "owner");
    expect(
      (
        await api("PATCH", `/v1/members/${owner.id}`, {
          slug: t.slug,
          token: t.owner.token,
          body: { role: "admin" },
        })
      ).status,
    ).toBe(200);
  });

  it("an admin cannot touch owners or grant owner", async () => {
    const t = await createTenant();
    const admin = await addMember(t, "admin");
    const other = await addMember(t, "member");
    const [owner] = (
      await api("GET", "/v1/members?limit=100", { slug: t.slug, token: t.owner.token })
    ).body.data.filter((m: { role: string }) => m.role === "owner");
    const as = { slug: t.slug, token: admin.tokens.access_token };
    expectProblem(await api("DELETE", `/v1/members/${owner.id}`, as), 403);
    expectProblem(
      await api("PATCH", `/v1/members/${other.memberId}`, { ...as, body: { role: "owner" } }),
      403,
    );
    expect(
      (await api("PATCH", `/v1/members/${other.memberId}`, { ...as, body: { role: "viewer" } }))
        .status,
    ).toBe(200);
  });

  it("removal ends the member's sessions and API keys and drops the sign-in index row", async () => {
    const t = await createTenant();
    const admin = await addMember(t, "admin");
    const key = await createApiKey(t, ["members:read"], admin.tokens.access_token);
    expect((await api("GET", "/v1/members", { slug: t.slug, token: key.key })).status).toBe(200);
    const res = await api("DELETE", `/v1/members/${admin.memberId}`, {
      slug: t.slug,
      token: t.owner.token,
    });
    expect(res.status).toBe(204);
    expectProblem(
      await api("GET", "/v1/me", { slug: t.slug, token: admin.tokens.access_token }),
      401,
    );
    expectProblem(await api("GET", "/v1/members", { slug: t.slug, token: key.key }), 401);
    expect(
      await tenantD1(t).prepare("SELECT 1 FROM members WHERE id = ?").bind(admin.memberId).first(),
    ).toBeNull();
    const index = await env.CONTROL_DB.prepare(
      "SELECT 1 FROM user_tenants WHERE user_id = ? AND tenant_id = ?",
    )
      .bind(admin.userId, t.tenant.id)
      .first();
    expect(index).toBeNull();
    expect((await auditRows(t, "member.remove"))[0]).toMatchObject({ target_id: admin.memberId });
  });
});

describe("members under concurrency and over time", () => {
  it("two owners demoting each other at once leave one owner", async () => {
    for (let round = 0; round < 3; round++) {
      const t = await createTenant();
      const second = await addMember(t, "owner");
      const [ownerRow] = (
        await tenantD1(t)
          .prepare("SELECT id FROM members WHERE user_id = ?")
          .bind(t.owner.id)
          .all<{ id: string }>()
      ).results;
      const [a, b] = await Promise.all([
        api("PATCH", `/v1/members/${second.memberId}`, {
          slug: t.slug,
          token: t.owner.token,
          body: { role: "admin" },
        }),
        api("PATCH", `/v1/members/${ownerRow!.id}`, {
          slug: t.slug,
          token: second.tokens.access_token,
          body: { role: "admin" },
        }),
      ]);
      expect([a.status, b.status].sort()).toEqual([200, 409]);
      const owners = await tenantD1(t)
        .prepare("SELECT count(*) AS n FROM members WHERE role = 'owner'")
        .first<{ n: number }>();
      expect(owners!.n).toBe(1);
      expect((await auditRows(t, "member.update")).length).toBe(1);
    }
  });

  it("two owners removing each other at once leave one owner", async () => {
    const t = await createTenant();
    const second = await addMember(t, "owner");
    const ownerId = (
      await api("GET", "/v1/members", { slug: t.slug, token: t.owner.token })
    ).body.data.find((m: { user_id: string }) => m.user_id === t.owner.id).id;
    const [a, b] = await Promise.all([
      api("DELETE", `/v1/members/${second.memberId}`, { slug: t.slug, token: t.owner.token }),
      api("DELETE", `/v1/members/${ownerId}`, { slug: t.slug, token: second.tokens.access_token }),
    ]);
    expect([a.status, b.status].sort()).toEqual([204, 409]);
    const owners = await tenantD1(t)
      .prepare("SELECT count(*) AS n FROM members WHERE role = 'owner'")
      .first<{ n: number }>();
    expect(owners!.n).toBe(1);
  });

  it("the same change sent five times at once applies once, with one audit entry", async () => {
    const t = await createTenant();
    const as = { slug: t.slug, token: t.owner.token };
    const five = <T>(call: () => Promise<T>) => Promise.all(Array.from({ length: 5 }, call));
    const ann = await addMember(t, "member");
    await five(() =>
      api("PATCH", `/v1/members/${ann.memberId}`, { ...as, body: { role: "admin" } }),
    );
    expect(await auditRows(t, "member.update")).toHaveLength(1);

    const bob = await addMember(t, "member");
    const removals = await five(() => api("DELETE", `/v1/members/${bob.memberId}`, as));
    expect(removals.filter((r) => r.status === 204)).toHaveLength(1);
    expect(await auditRows(t, "member.remove")).toHaveLength(1);

    await markEmailVerified(t.owner.id);
    const invited = await api("POST", "/v1/invitations", {
      ...as,
      body: { email: `cy-${crypto.randomUUID()}@example.com`, role: "member" },
    });
    expect(invited.status, JSON.stringify(invited.body)).toBe(201);
    const revokes = await five(() => api("DELETE", `/v1/invitations/${invited.body.id}`, as));
    expect(revokes.map((r) => r.status)).toEqual([204, 204, 204, 204, 204]);
    expect(await auditRows(t, "invitation.revoke")).toHaveLength(1);
  });

  it("demoting or removing a member revokes the invitations they could no longer send", async () => {
    const t = await createTenant();
    const admin = await addMember(t, "admin");
    const invite = async (role: string) => {
      const res = await api("POST", "/v1/invitations", {
        slug: t.slug,
        token: admin.tokens.access_token,
        body: { email: `${role}-${crypto.randomUUID()}@example.com`, role },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body.id as string;
    };
    const asAdmin = [await invite("admin"), await invite("viewer")];
    // Demoted to member: a member cannot invite at all.
    expect(
      (
        await api("PATCH", `/v1/members/${admin.memberId}`, {
          slug: t.slug,
          token: t.owner.token,
          body: { role: "member" },
        })
      ).status,
    ).toBe(200);
    const status = async (id: string) =>
      (
        await tenantD1(t)
          .prepare("SELECT revoked_at FROM invitations WHERE id = ?")
          .bind(id)
          .first<{ revoked_at: number | null }>()
      )?.revoked_at;
    for (const id of asAdmin) expect(await status(id)).not.toBeNull();

    const other = await addMember(t, "admin");
    const res = await api("POST", "/v1/invitations", {
      slug: t.slug,
      token: other.tokens.access_token,
      body: { email: `v-${crypto.randomUUID()}@example.com`, role: "viewer" },
    });
    expect(res.status).toBe(201);
    expect(
      (await api("DELETE", `/v1/members/${other.memberId}`, { slug: t.slug, token: t.owner.token }))
        .status,
    ).toBe(204);
    expect(await status(res.body.id)).not.toBeNull();
  });
});
