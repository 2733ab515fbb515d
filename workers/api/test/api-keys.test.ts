import { describe, expect, it } from "vitest";
import {
  addMember,
  api,
  auditRows,
  createApiKey,
  createTenant,
  expectProblem,
  tenantD1,
} from "./helpers";

describe("API keys", () => {
  it("are shown once, stored only as a hash, and authenticate like users", async () => {
    const t = await createTenant();
    const res = await api("POST", "/v1/api-keys", {
      slug: t.slug,
      token: t.owner.token,
      body: { name: "ci", permissions: ["api_keys:read", "api_keys:manage"] },
    });
    expect(res.status).toBe(201);
    expect(res.body.key).toMatch(/^tnry_[\w-]{43}$/);
    expect(res.body).toMatchObject({
      name: "ci",
      permissions: ["api_keys:read", "api_keys:manage"],
      last_used_at: null,
    });
    const row = await tenantD1(t)
      .prepare("SELECT * FROM api_keys WHERE id = ?")
      .bind(res.body.id)
      .first<Record<string, string>>();
    expect(Object.values(row!)).not.toContain(res.body.key);
    expect(row!.key_hash).toMatch(/^[0-9a-f]{64}$/);
    const list = await api("GET", "/v1/api-keys", { slug: t.slug, token: t.owner.token });
    expect(JSON.stringify(list.body)).not.toContain(res.body.key);
    expect(JSON.stringify(await auditRows(t, "api_key.create"))).not.toContain(res.body.key);

    // The key acts in its own name: it revokes another key, and the audit entry names it.
    const other = await createApiKey(t, ["members:read"]);
    const revoked = await api("DELETE", `/v1/api-keys/${other.id}`, {
      slug: t.slug,
      token: res.body.key,
    });
    expect(revoked.status).toBe(204);
    expect((await auditRows(t, "api_key.revoke"))[0]).toMatchObject({
      actor_type: "api_key",
      actor_id: res.body.id,
    });
    const me = await api("GET", "/v1/me", { slug: t.slug, token: res.body.key });
    expect(me.body).toMatchObject({
      api_key: { id: res.body.id },
      user: null,
      permissions: ["api_keys:manage", "api_keys:read"],
    });
    expectProblem(await api("GET", "/v1/members", { slug: t.slug, token: res.body.key }), 403);
  });

  it("record their last use", async () => {
    const t = await createTenant();
    const key = await createApiKey(t, ["members:read"]);
    await api("GET", "/v1/members", { slug: t.slug, token: key.key });
    // Recorded off the request path (waitUntil); poll briefly.
    let lastUsed: unknown = null;
    for (let i = 0; i < 50 && !lastUsed; i++) {
      const row = await tenantD1(t)
        .prepare("SELECT last_used_at FROM api_keys WHERE id = ?")
        .bind(key.id)
        .first<{ last_used_at: number | null }>();
      lastUsed = row?.last_used_at;
      if (!lastUsed) await new Promise((r) => setTimeout(r, 20));
    }
    expect(lastUsed).toEqual(expect.any(Number));
  });

  it("cannot carry permissions the creator lacks (escalation)", async () => {
    const t = await createTenant();
    const admin = await addMember(t, "admin");
    const res = await api("POST", "/v1/api-keys", {
      slug: t.slug,
      token: admin.tokens.access_token,
      body: { name: "escalate", permissions: ["members:read", "billing:manage"] },
    });
    expectProblem(res, 403, "permission_escalation");
    expect(res.body.missing).toEqual(["billing:manage"]);
    expect((await auditRows(t, "api_key.create")).length).toBe(0);
  });

  it("cannot mint other keys, even with api_keys:manage", async () => {
    const t = await createTenant();
    const key = await createApiKey(t, ["api_keys:manage", "api_keys:read", "members:read"]);
    const res = await api("POST", "/v1/api-keys", {
      slug: t.slug,
      token: key.key,
      body: { name: "child", permissions: ["members:read"] },
    });
    expectProblem(res, 403, "api_key_cannot_create_keys");
  });

  it("never outrank their creator: a demoted creator's key loses what the new role lacks", async () => {
    const t = await createTenant();
    const admin = await addMember(t, "admin");
    const key = await createApiKey(
      t,
      ["members:manage", "members:read", "audit:read"],
      admin.tokens.access_token,
    );
    expect((await api("GET", "/v1/audit-log", { slug: t.slug, token: key.key })).status).toBe(200);
    await api("PATCH", `/v1/members/${admin.memberId}`, {
      slug: t.slug,
      token: t.owner.token,
      body: { role: "viewer" },
    });
    expectProblem(await api("GET", "/v1/audit-log", { slug: t.slug, token: key.key }), 403);
    expectProblem(
      await api("PATCH", `/v1/members/${admin.memberId}`, {
        slug: t.slug,
        token: key.key,
        body: { role: "member" },
      }),
      403,
    );
    expect((await api("GET", "/v1/members", { slug: t.slug, token: key.key })).status).toBe(200);
  });

  it("a revoked key is refused at once; revoking is audited", async () => {
    const t = await createTenant();
    const key = await createApiKey(t, ["members:read"]);
    expect((await api("GET", "/v1/members", { slug: t.slug, token: key.key })).status).toBe(200);
    expect(
      (await api("DELETE", `/v1/api-keys/${key.id}`, { slug: t.slug, token: t.owner.token }))
        .status,
    ).toBe(204);
    expectProblem(await api("GET", "/v1/members", { slug: t.slug, token: key.key }), 401);
    expect((await auditRows(t, "api_key.revoke"))[0]).toMatchObject({ target_id: key.id });
  });

  it("an expired key is refused; an expiry in the past is a 400", async () => {
    const t = await createTenant();
    // Whole seconds, as a client would send them; the key lapses within about two seconds.
    const soon = new Date(Math.ceil(Date.now() / 1000) * 1000 + 1000).toISOString();
    const res = await api("POST", "/v1/api-keys", {
      slug: t.slug,
      token: t.owner.token,
      body: { name: "short", permissions: ["members:read"], expires_at: soon },
    });
    expect(res.status).toBe(201);
    expect(res.body.expires_at).toBe(soon);
    expect((await api("GET", "/v1/members", { slug: t.slug, token: res.body.key })).status).toBe(
      200,
    );
    // The key record is cached in this isolate; its expiry still applies on time.
    await new Promise((r) => setTimeout(r, Date.parse(soon) - Date.now() + 50));
    expectProblem(await api("GET", "/v1/members", { slug: t.slug, token: res.body.key }), 401);
    const past = await api("POST", "/v1/api-keys", {
      slug: t.slug,
      token: t.owner.token,
      body: { name: "past", permissions: ["members:read"], expires_at: "2020-01-01T00:00:00Z" },
    });
    expectProblem(past, 400, "invalid_request");
  });
});
