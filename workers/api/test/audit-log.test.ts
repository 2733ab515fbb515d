/** The tenant audit log as members read it. */
import { describe, expect, it } from "vitest";
import { api, createTenant } from "./helpers";

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
