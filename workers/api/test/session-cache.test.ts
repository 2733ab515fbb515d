/**
 * The per-isolate session cache: one database round trip per authenticated request, bounded
 * staleness for changes made elsewhere, and immediate effect for changes made here.
 */
import { describe, expect, it } from "vitest";
import { cachedSession, cacheSession, forgetSessions } from "../src/services/session-cache";
import { addMember, api, createTenant, expectProblem, tenantD1 } from "./helpers";

const session = (userId: string, tenantId = "ten_a") => ({
  tenantId,
  userId,
  memberId: "mem_x",
  role: "member",
  email: "x@example.com",
  expiresAt: Date.now() + 3600_000,
});

describe("session cache", () => {
  it("expires entries after the TTL and never serves an expired session", () => {
    cacheSession("ses_ttl", session("usr_1"), 5);
    expect(cachedSession("ses_ttl")).not.toBeNull();
    expect(cachedSession("ses_ttl", Date.now() + 5_001)).toBeNull();
    cacheSession("ses_old", { ...session("usr_1"), expiresAt: Date.now() - 1 }, 5);
    expect(cachedSession("ses_old")).toBeNull();
    cacheSession("ses_off", session("usr_1"), 0);
    expect(cachedSession("ses_off")).toBeNull();
  });

  it("forgets by session, by user, or by user in one tenant", () => {
    cacheSession("ses_1", session("usr_1", "ten_a"), 5);
    cacheSession("ses_2", session("usr_1", "ten_b"), 5);
    cacheSession("ses_3", session("usr_2", "ten_a"), 5);
    forgetSessions({ userId: "usr_1", tenantId: "ten_a" });
    expect(
      [cachedSession("ses_1"), cachedSession("ses_2"), cachedSession("ses_3")].map(Boolean),
    ).toEqual([false, true, true]);
    forgetSessions({ userId: "usr_1" });
    expect(cachedSession("ses_2")).toBeNull();
    forgetSessions({ sid: "ses_3" });
    expect(cachedSession("ses_3")).toBeNull();
  });

  it("a revocation written by another isolate takes effect once the entry lapses (≤ TTL)", async () => {
    const t = await createTenant();
    const m = await addMember(t, "member");
    const as = { slug: t.slug, token: m.tokens.access_token };
    expect((await api("GET", "/v1/me", as)).status).toBe(200);
    // Another isolate revokes the session: this isolate's cache does not know yet.
    await tenantD1(t)
      .prepare("UPDATE sessions SET revoked_at = ? WHERE user_id = ?")
      .bind(Date.now(), m.userId)
      .run();
    expect((await api("GET", "/v1/me", as)).status).toBe(200);
    const sid = JSON.parse(
      atob(m.tokens.access_token.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/")),
    ).sid;
    expect(cachedSession(sid, Date.now() + 10_001)).toBeNull();
    expectProblem(await api("GET", "/v1/me", as), 401);
  });
});
