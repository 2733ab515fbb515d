import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { HANDOFF_TTL_MS } from "../src/services/handoff";
import { LINK_TOKEN_LIMIT } from "../src/services/throttle";
import { api, auditRows, createTenant, expectProblem, lastMail, type TestTenant } from "./helpers";

const mint = (t: TestTenant, token = t.owner.token) =>
  api("POST", "/v1/auth/handoff", { slug: t.slug, token });
const redeem = (slug: string, code: string) =>
  api("POST", "/v1/auth/handoff/redeem", { slug, body: { code } });

describe("sign-up hand-off", () => {
  it("failed redeems are throttled per client: 40 parallel guesses, exactly the budget answered", async () => {
    const t = await createTenant();
    const headers = { "cf-connecting-ip": "203.0.113.41" };
    const guess = (_: unknown, i: number) =>
      api("POST", "/v1/auth/handoff/redeem", {
        slug: t.slug,
        body: { code: `ses_guess.${i}` },
        headers,
      });
    const answers = await Promise.all(Array.from({ length: 40 }, guess));
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 401).length).toBe(LINK_TOKEN_LIMIT.max);
    expect(statuses.filter((s) => s === 429).length).toBe(40 - LINK_TOKEN_LIMIT.max);
    const refused = answers.find((r) => r.status === 429)!;
    expectProblem(refused, 429, "too_many_requests");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    // Another client redeems its genuine code; a success gives its attempt back.
    const other = { "cf-connecting-ip": "203.0.113.42" };
    const minted = await mint(t);
    const redeemed = await api("POST", "/v1/auth/handoff/redeem", {
      slug: t.slug,
      body: { code: minted.body.code },
      headers: other,
    });
    expect(redeemed.status).toBe(200);
    const counter = await env.CONTROL_DB.prepare("SELECT failures FROM auth_throttle WHERE key = ?")
      .bind("link:handoff:203.0.113.42")
      .first<{ failures: number }>();
    expect(counter?.failures).toBe(0);
  });

  it("a code minted with the sign-up session is redeemed once for a new session; the old one is dead", async () => {
    const t = await createTenant();
    const minted = await mint(t);
    expect(minted.status).toBe(201);
    expect(minted.body.expires_in).toBe(HANDOFF_TTL_MS / 1000);
    // Only the hash is stored.
    const stored = await env.CONTROL_DB.prepare(
      "SELECT token_hash, expires_at - created_at AS ttl FROM auth_tokens WHERE kind = 'handoff' AND user_id = ?",
    )
      .bind(t.owner.id)
      .first<{ token_hash: string; ttl: number }>();
    expect(stored?.token_hash).not.toContain(minted.body.code);
    expect(stored?.ttl).toBeLessThanOrEqual(60_000);

    const redeemed = await redeem(t.slug, minted.body.code);
    expect(redeemed.status).toBe(200);
    const me = await api("GET", "/v1/me", { slug: t.slug, token: redeemed.body.access_token });
    expect(me.body.user.id).toBe(t.owner.id);
    // The tokens that passed through the apex are revoked.
    expectProblem(await api("GET", "/v1/me", { slug: t.slug, token: t.owner.token }), 401);
    expectProblem(
      await api("POST", "/v1/auth/refresh", {
        slug: t.slug,
        body: { refresh_token: t.owner.refresh },
      }),
      401,
    );
    const revoked = await auditRows(t, "session.revoke");
    expect(revoked.some((r) => JSON.parse(String(r.after)).reason === "handed_off")).toBe(true);
    // Replayed: refused.
    expectProblem(await redeem(t.slug, minted.body.code), 401, "unauthorized");
  });

  it("parallel redeems of one code: exactly one wins", async () => {
    const t = await createTenant();
    const { code } = (await mint(t)).body;
    const results = await Promise.all(Array.from({ length: 6 }, () => redeem(t.slug, code)));
    expect(results.map((r) => r.status).sort()).toEqual([200, 401, 401, 401, 401, 401]);
  });

  it("an expired code is refused", async () => {
    const t = await createTenant();
    const { code } = (await mint(t)).body;
    await env.CONTROL_DB.prepare(
      "UPDATE auth_tokens SET expires_at = ? WHERE kind = 'handoff' AND user_id = ?",
    )
      .bind(Date.now() - 1, t.owner.id)
      .run();
    expectProblem(await redeem(t.slug, code), 401, "unauthorized");
    // The session was not handed off: it still works.
    expect((await api("GET", "/v1/me", { slug: t.slug, token: t.owner.token })).status).toBe(200);
  });

  it("a code minted for tenant A is refused on tenant B, and stays usable on A", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const { code } = (await mint(a)).body;
    expectProblem(await redeem(b.slug, code), 401, "unauthorized");
    expect((await redeem(a.slug, code)).status).toBe(200);
  });

  it("a made-up code is refused", async () => {
    const t = await createTenant();
    for (const code of ["nonsense", "ses_x.y", `${t.owner.refresh}`]) {
      expectProblem(await redeem(t.slug, code), 401, "unauthorized");
    }
  });
});

describe("resending the verification mail", () => {
  it("mails a new link that verifies the address; once verified it is a 409", async () => {
    const t = await createTenant();
    const sent = await api("POST", "/v1/auth/verify-email/resend", {
      slug: t.slug,
      token: t.owner.token,
    });
    expect(sent.status).toBe(202);
    const mail = await lastMail(t.owner.email, "Verify your email address");
    const token = decodeURIComponent(mail!.text.match(/verify-email\?token=(\S+)/)![1]!);
    expect(mail!.text).toContain(`://${t.slug}.`);
    expect(
      (await api("POST", "/v1/auth/verify-email", { slug: t.slug, body: { token } })).status,
    ).toBe(204);
    expectProblem(
      await api("POST", "/v1/auth/verify-email/resend", { slug: t.slug, token: t.owner.token }),
      409,
      "email_already_verified",
    );
  });
});
