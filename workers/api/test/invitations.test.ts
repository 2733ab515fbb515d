import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { INVITATION_TTL_MS } from "../src/services/invitations";
import { LINK_TOKEN_LIMIT, SIGN_IN_LIMITS } from "../src/services/throttle";
import {
  addMember,
  api,
  auditRows,
  createApiKey,
  createTenant,
  expectProblem,
  lastMail,
  markEmailVerified,
  PASSWORD,
  type TestTenant,
  tenantD1,
  tokenFromMail,
} from "./helpers";

async function verifiedTenant() {
  const t = await createTenant();
  await markEmailVerified(t.owner.id);
  return t;
}

async function invite(t: TestTenant, email: string, role = "member", token = t.owner.token) {
  const res = await api("POST", "/v1/invitations", { slug: t.slug, token, body: { email, role } });
  return {
    res,
    token: res.status === 201 ? tokenFromMail((await lastMail(email, `Org ${t.slug} `))!.text) : "",
  };
}

const accept = (t: TestTenant, body: Record<string, unknown>) =>
  api("POST", "/v1/invitations/accept", { slug: t.slug, body });

describe("inviting", () => {
  it("waits until the inviter's email is verified", async () => {
    const t = await createTenant();
    expectProblem((await invite(t, "new@example.com")).res, 403, "email_unverified");
  });

  it("mails a link, returns the invitation without its token, and audits it", async () => {
    const t = await verifiedTenant();
    const { res } = await invite(t, "New.Person@Example.com", "viewer");
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      email: "new.person@example.com",
      role: "viewer",
      status: "pending",
    });
    expect(JSON.stringify(res.body)).not.toMatch(/token/);
    const mail = await lastMail("new.person@example.com");
    expect(mail!.text).toContain(`http://${t.slug}.localhost:8787/accept-invitation?token=`);
    expect((await auditRows(t, "invitation.create"))[0]!.after).not.toMatch(/token|hash/);
    const list = await api("GET", "/v1/invitations", { slug: t.slug, token: t.owner.token });
    expect(list.body.data.map((i: { id: string }) => i.id)).toContain(res.body.id);
  });

  it("refuses a role higher than the inviter's", async () => {
    const t = await verifiedTenant();
    const admin = await addMember(t, "admin");
    expectProblem(
      (await invite(t, "x@example.com", "owner", admin.tokens.access_token)).res,
      403,
      "forbidden",
    );
    expect((await invite(t, "y@example.com", "member", admin.tokens.access_token)).res.status).toBe(
      201,
    );
  });

  it("refuses existing members and duplicate pending invitations", async () => {
    const t = await verifiedTenant();
    expectProblem((await invite(t, t.owner.email)).res, 409, "already_member");
    await invite(t, "twice@example.com");
    expectProblem((await invite(t, "twice@example.com")).res, 409, "invitation_pending");
  });
});

describe("accepting", () => {
  it("creates the identity and membership, signs the new member in, and is single use", async () => {
    const t = await verifiedTenant();
    const { token } = await invite(t, "joiner@example.com", "member");
    const res = await accept(t, { token, password: "joiner password 1" });
    expect(res.status).toBe(201);
    expect(res.body.member).toMatchObject({ email: "joiner@example.com", role: "member" });
    const me = await api("GET", "/v1/me", { slug: t.slug, token: res.body.access_token });
    expect(me.body).toMatchObject({
      role: "member",
      user: { email: "joiner@example.com", email_verified: true },
    });
    expectProblem(
      await accept(t, { token, password: "joiner password 1" }),
      400,
      "invalid_request",
    );
    expect((await auditRows(t, "invitation.accept")).length).toBe(1);
    expect((await auditRows(t, "member.join")).length).toBe(2);
  });

  it("unknown invitation tokens are throttled per client: 40 parallel previews, exactly the budget answered", async () => {
    const t = await verifiedTenant();
    const headers = { "cf-connecting-ip": "203.0.113.51" };
    const guess = (_: unknown, i: number) =>
      api("POST", "/v1/invitations/preview", {
        slug: t.slug,
        body: { token: `guess-${i}` },
        headers,
      });
    const answers = await Promise.all(Array.from({ length: 40 }, guess));
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 400).length).toBe(LINK_TOKEN_LIMIT.max);
    expect(statuses.filter((s) => s === 429).length).toBe(40 - LINK_TOKEN_LIMIT.max);
    const refused = answers.find((r) => r.status === 429)!;
    expectProblem(refused, 429, "too_many_requests");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    // Accepting looks tokens up too: the same budget.
    const accepting = await api("POST", "/v1/invitations/accept", {
      slug: t.slug,
      body: { token: "guess-accept", password: "long enough password" },
      headers,
    });
    expectProblem(accepting, 429, "too_many_requests");
    // Valid tokens give their attempt back: previewing one often never adds up.
    const { token } = await invite(t, "often@example.com", "viewer");
    const other = { "cf-connecting-ip": "203.0.113.52" };
    for (let i = 0; i <= LINK_TOKEN_LIMIT.max; i++) {
      const r = await api("POST", "/v1/invitations/preview", {
        slug: t.slug,
        body: { token },
        headers: other,
      });
      expect(r.status).toBe(200);
    }
  });

  it("previews an invitation without consuming it, saying whether the email has an account", async () => {
    const t = await verifiedTenant();
    const other = await createTenant();
    const fresh = await invite(t, "newcomer@example.com", "viewer");
    const known = await invite(t, other.owner.email, "member");
    const preview = (token: string) =>
      api("POST", "/v1/invitations/preview", { slug: t.slug, body: { token } });
    const seen = await preview(fresh.token);
    expect(seen.status).toBe(200);
    expect(seen.body).toMatchObject({
      email: "newcomer@example.com",
      role: "viewer",
      organization_name: `Org ${t.slug}`,
      account_exists: false,
    });
    expect((await preview(known.token)).body.account_exists).toBe(true);
    // Previewing twice, then accepting, works: the preview consumed nothing.
    expect((await preview(fresh.token)).status).toBe(200);
    expect((await accept(t, { token: fresh.token, password: "newcomer password" })).status).toBe(
      201,
    );
    expectProblem(await preview(fresh.token), 400, "invalid_request");
    expectProblem(await preview("not-a-token"), 400, "invalid_request");
    const elsewhere = await verifiedTenant();
    const foreign = await invite(elsewhere, "elsewhere@example.com");
    expectProblem(await preview(foreign.token), 400, "invalid_request");
  });

  it("binds to the invited email: an existing identity must prove itself with its password", async () => {
    const t = await verifiedTenant();
    const other = await createTenant();
    const { token } = await invite(t, other.owner.email, "viewer");
    expectProblem(
      await accept(t, { token, password: "someone else's guess" }),
      401,
      "unauthorized",
    );
    expectProblem(await accept(t, { token }), 400);
    const ok = await accept(t, { token, password: PASSWORD });
    expect(ok.status).toBe(201);
    expect(ok.body.member.user_id).toBe(other.owner.id);
  });

  it("cannot be redirected to another email", async () => {
    const t = await verifiedTenant();
    const { token } = await invite(t, "invited@example.com");
    expectProblem(
      await accept(t, { token, password: "attacker password", email: "attacker@example.com" }),
      400,
    );
    const users = await env.CONTROL_DB.prepare(
      "SELECT count(*) AS n FROM users WHERE email = 'attacker@example.com'",
    ).first();
    expect(users).toEqual({ n: 0 });
  });

  it("refuses expired, revoked and foreign-tenant tokens", async () => {
    const t = await verifiedTenant();
    const expired = await invite(t, "late@example.com");
    await tenantD1(t)
      .prepare("UPDATE invitations SET expires_at = ? WHERE email = 'late@example.com'")
      .bind(Date.now() - 1)
      .run();
    expectProblem(await accept(t, { token: expired.token, password: "late password 1" }), 400);

    const revoked = await invite(t, "revoked@example.com");
    expect(
      (
        await api("DELETE", `/v1/invitations/${revoked.res.body.id}`, {
          slug: t.slug,
          token: t.owner.token,
        })
      ).status,
    ).toBe(204);
    expectProblem(await accept(t, { token: revoked.token, password: "revoked password" }), 400);
    expect((await auditRows(t, "invitation.revoke")).length).toBe(1);

    const other = await verifiedTenant();
    const foreign = await invite(other, "elsewhere@example.com");
    expectProblem(await accept(t, { token: foreign.token, password: "elsewhere password" }), 400);
  });

  it("expires after 7 days", async () => {
    const t = await verifiedTenant();
    const { res } = await invite(t, "week@example.com");
    expect(Date.parse(res.body.expires_at) - Date.parse(res.body.created_at)).toBe(
      INVITATION_TTL_MS,
    );
    expect(INVITATION_TTL_MS).toBe(7 * 24 * 3600_000);
  });
});

describe("seats", () => {
  it("acceptance stops at the plan's seat limit, naming it, and creates no identity", async () => {
    const t = await verifiedTenant();
    await addMember(t, "member");
    await addMember(t, "viewer");
    const { token } = await invite(t, "fourth@example.com");
    const res = await accept(t, { token, password: "fourth password" });
    expectProblem(res, 403, "plan_limit_reached");
    expect(res.body).toMatchObject({ limit: "seats", limit_value: 3 });
    const users = await env.CONTROL_DB.prepare(
      "SELECT count(*) AS n FROM users WHERE email = 'fourth@example.com'",
    ).first();
    expect(users).toEqual({ n: 0 });
  });
});

describe("acceptance under failure and concurrency", () => {
  it("free plan (3 seats): a failed then successful acceptance, then parallel ones, never make a fourth member", async () => {
    const t = await verifiedTenant();
    // An identity that exists elsewhere: its acceptance fails with a wrong password first.
    const elsewhere = await createTenant();
    const first = await invite(t, elsewhere.owner.email);
    expectProblem(await accept(t, { token: first.token, password: "not the password" }), 401);
    expect((await accept(t, { token: first.token, password: PASSWORD })).status).toBe(201);
    // One seat is left (owner + one member of three); three invitations race for it.
    const racers = [];
    for (let i = 0; i < 3; i++) racers.push(await invite(t, `racer-${i}-${t.slug}@example.com`));
    const results = await Promise.all(
      racers.map((r) => accept(t, { token: r.token, password: PASSWORD })),
    );
    expect(results.filter((r) => r.status === 201).length).toBe(1);
    for (const r of results.filter((r) => r.status !== 201)) {
      expectProblem(r, 403, "plan_limit_reached");
    }
    const members = await tenantD1(t)
      .prepare("SELECT count(*) AS n FROM members")
      .first<{ n: number }>();
    expect(members!.n).toBe(3);
  });

  it("a revoked invitation never adds the member, however the revocation and acceptance interleave", async () => {
    const t = await verifiedTenant();
    for (let i = 0; i < 4; i++) {
      const email = `revoked-${i}-${t.slug}@example.com`;
      const { res, token } = await invite(t, email, "viewer");
      const [accepted, revoked] = await Promise.all([
        accept(t, { token, password: PASSWORD }),
        api("DELETE", `/v1/invitations/${res.body.id}`, { slug: t.slug, token: t.owner.token }),
      ]);
      const row = await tenantD1(t)
        .prepare("SELECT accepted_at, revoked_at FROM invitations WHERE id = ?")
        .bind(res.body.id)
        .first<{ accepted_at: number | null; revoked_at: number | null }>();
      const member = await tenantD1(t)
        .prepare("SELECT id FROM members WHERE email = ?")
        .bind(email)
        .first();
      if (accepted.status === 201) {
        expect(row!.accepted_at).not.toBeNull();
        expect(member).not.toBeNull();
        expectProblem(revoked, 409, "invitation_accepted");
      } else {
        expect(row!.revoked_at).not.toBeNull();
        expect(member).toBeNull();
      }
    }
  });

  it("acceptance re-checks the inviter: an inviter who left makes the invitation invalid", async () => {
    const t = await verifiedTenant();
    const admin = await addMember(t, "admin");
    const { token } = await invite(
      t,
      `orphan-${t.slug}@example.com`,
      "viewer",
      admin.tokens.access_token,
    );
    // Removed behind the API's back (the API also revokes the invitation; this is the re-check).
    await tenantD1(t).prepare("DELETE FROM members WHERE id = ?").bind(admin.memberId).run();
    expectProblem(await accept(t, { token, password: PASSWORD }), 400, "invalid_request");
  });

  it("guessing the password of an invited account is throttled like sign-in, in parallel too", async () => {
    const t = await verifiedTenant();
    const elsewhere = await createTenant();
    const { token } = await invite(t, elsewhere.owner.email);
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        api("POST", "/v1/invitations/accept", {
          slug: t.slug,
          headers: { "cf-connecting-ip": `192.0.2.${100 + i}` },
          body: { token, password: `wrong guess ${i}` },
        }),
      ),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(
      SIGN_IN_LIMITS.account.max,
    );
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(
      12 - SIGN_IN_LIMITS.account.max,
    );
  });

  it("an account that appears while accepting must still prove its password", async () => {
    const a = await verifiedTenant();
    const b = await verifiedTenant();
    const email = `both-${a.slug}@example.com`;
    const fromA = await invite(a, email);
    const fromB = await invite(b, email);
    const [ra, rb] = await Promise.all([
      accept(a, { token: fromA.token, password: "the first password" }),
      accept(b, { token: fromB.token, password: "another password!" }),
    ]);
    // Whoever created the identity joined; the other had to know that identity's password.
    expect([ra.status, rb.status].sort()).toEqual([201, 401]);
  });

  it("an API key does not bypass the verified-email rule, and an unverified member cannot mint one that invites", async () => {
    const t = await verifiedTenant();
    const key = await createApiKey(t, ["invitations:manage", "invitations:read"]);
    await env.CONTROL_DB.prepare("UPDATE users SET email_verified_at = NULL WHERE id = ?")
      .bind(t.owner.id)
      .run();
    expectProblem(
      (await invite(t, `bykey-${t.slug}@example.com`, "viewer", key.key)).res,
      403,
      "email_unverified",
    );
    const minted = await api("POST", "/v1/api-keys", {
      slug: t.slug,
      token: t.owner.token,
      body: { name: "inviter", permissions: ["invitations:manage"] },
    });
    expectProblem(minted, 403, "email_unverified");
  });
});
