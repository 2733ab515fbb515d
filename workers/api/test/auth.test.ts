import { env } from "cloudflare:workers";
import {
  base64url,
  hashPassword,
  needsRehash,
  PASSWORD_HASH,
  verifyPassword,
} from "@tenantry/core/crypto";
import { describe, expect, it } from "vitest";
import { SIGN_IN_LIMITS } from "../src/services/throttle";
import {
  addMember,
  api,
  auditRows,
  createApiKey,
  createTenant,
  expectProblem,
  lastMail,
  PASSWORD,
  tenantD1,
  tokenFromMail,
} from "./helpers";

describe("password hashing", () => {
  it("stays within production workerd's PBKDF2 limit and records its parameters", async () => {
    expect(PASSWORD_HASH.algorithm).toBe("pbkdf2-sha256");
    expect(PASSWORD_HASH.iterations).toBeLessThanOrEqual(100_000);
    expect(PASSWORD_HASH.iterations).toBeGreaterThanOrEqual(100_000);
    const hash = await hashPassword("s3cret password");
    expect(hash).toMatch(/^pbkdf2-sha256\$100000\$[\w-]{22}\$[\w-]{43}$/);
    expect(await verifyPassword("s3cret password", hash)).toBe(true);
    expect(await verifyPassword("wrong password", hash)).toBe(false);
    expect(needsRehash(hash)).toBe(false);
    expect(needsRehash(hash.replace("$100000$", "$50000$"))).toBe(true);
  });

  it("a hash made under weaker parameters is upgraded at the next sign-in", async () => {
    const t = await createTenant();
    // A legacy hash: the same format, 1,000 iterations.
    const salt = crypto.getRandomValues(new Uint8Array(16));
    const key = await crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(PASSWORD),
      "PBKDF2",
      false,
      ["deriveBits"],
    );
    const bits = await crypto.subtle.deriveBits(
      { name: "PBKDF2", hash: "SHA-256", salt, iterations: 1000 },
      key,
      256,
    );
    const legacy = `pbkdf2-sha256$1000$${base64url(salt)}$${base64url(bits)}`;
    await env.CONTROL_DB.prepare("UPDATE users SET password_hash = ? WHERE id = ?")
      .bind(legacy, t.owner.id)
      .run();
    const res = await api("POST", "/v1/auth/login", {
      slug: t.slug,
      body: { email: t.owner.email, password: PASSWORD },
    });
    expect(res.status).toBe(200);
    const row = await env.CONTROL_DB.prepare("SELECT password_hash FROM users WHERE id = ?")
      .bind(t.owner.id)
      .first<{ password_hash: string }>();
    expect(row!.password_hash.startsWith("pbkdf2-sha256$100000$")).toBe(true);
  });

  it("stored user hashes carry the parameters", async () => {
    const t = await createTenant();
    const row = await env.CONTROL_DB.prepare("SELECT password_hash FROM users WHERE id = ?")
      .bind(t.owner.id)
      .first<{ password_hash: string }>();
    expect(row!.password_hash.startsWith("pbkdf2-sha256$100000$")).toBe(true);
  });
});

describe("login", () => {
  it("returns tokens for a member; emails are case-insensitive", async () => {
    const t = await createTenant();
    const res = await api("POST", "/v1/auth/login", {
      slug: t.slug,
      body: { email: t.owner.email.toUpperCase(), password: PASSWORD },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ token_type: "Bearer", expires_in: 900 });
    const me = await api("GET", "/v1/me", { slug: t.slug, token: res.body.access_token });
    expect(me.body).toMatchObject({ role: "owner", user: { email: t.owner.email } });
    expect(me.body.permissions).toContain("billing:manage");
    expect((await auditRows(t, "session.create")).length).toBe(2);
  });

  it("wrong password, unknown email and non-member all give the same 401", async () => {
    const t = await createTenant();
    const other = await createTenant();
    const bodies = [
      { email: t.owner.email, password: "wrong password!" },
      { email: "nobody@example.com", password: PASSWORD },
      { email: other.owner.email, password: PASSWORD },
    ];
    const responses = [];
    for (const body of bodies)
      responses.push(await api("POST", "/v1/auth/login", { slug: t.slug, body }));
    for (const res of responses) expectProblem(res, 401, "unauthorized");
    const details = new Set(responses.map((r) => r.body.detail));
    expect(details.size).toBe(1);
  });

  it("throttles repeated failures per account with 429 and Retry-After", async () => {
    const t = await createTenant();
    for (let i = 0; i < SIGN_IN_LIMITS.account.max; i++) {
      expectProblem(
        await api("POST", "/v1/auth/login", {
          slug: t.slug,
          body: { email: t.owner.email, password: "nope nope" },
        }),
        401,
      );
    }
    const blocked = await api("POST", "/v1/auth/login", {
      slug: t.slug,
      body: { email: t.owner.email, password: PASSWORD },
    });
    expectProblem(blocked, 429, "too_many_requests");
    expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  it("counts attempts atomically: of 50 parallel wrong passwords at most the budget get a 401", async () => {
    const t = await createTenant();
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        api("POST", "/v1/auth/login", {
          slug: t.slug,
          // Spread over clients, so the per-account budget is the one that binds.
          headers: { "cf-connecting-ip": `192.0.2.${i + 1}` },
          body: { email: t.owner.email, password: "wrong password!" },
        }),
      ),
    );
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(
      SIGN_IN_LIMITS.account.max,
    );
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(
      50 - SIGN_IN_LIMITS.account.max,
    );
    expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
  });

  it("a lock-out on one tenant's host leaves the person's other tenants open", async () => {
    const t = await createTenant();
    const other = await createTenant();
    await addMember(other, "member", { userId: t.owner.id, email: t.owner.email });
    for (let i = 0; i <= SIGN_IN_LIMITS.account.max; i++) {
      await api("POST", "/v1/auth/login", {
        slug: t.slug,
        headers: { "cf-connecting-ip": `198.51.100.${i + 10}` },
        body: { email: t.owner.email, password: "wrong password!" },
      });
    }
    expectProblem(
      await api("POST", "/v1/auth/login", {
        slug: t.slug,
        headers: { "cf-connecting-ip": "198.51.100.99" },
        body: { email: t.owner.email, password: PASSWORD },
      }),
      429,
    );
    const elsewhere = await api("POST", "/v1/auth/login", {
      slug: other.slug,
      headers: { "cf-connecting-ip": "198.51.100.99" },
      body: { email: t.owner.email, password: PASSWORD },
    });
    expect(elsewhere.status, JSON.stringify(elsewhere.body)).toBe(200);
  });

  it("throttles repeated failures per client address", async () => {
    const t = await createTenant();
    const headers = { "cf-connecting-ip": "203.0.113.7" };
    for (let i = 0; i < SIGN_IN_LIMITS.client.max; i++) {
      await api("POST", "/v1/auth/login", {
        slug: t.slug,
        headers,
        body: { email: `x${i}@example.com`, password: "nope nope" },
      });
    }
    const blocked = await api("POST", "/v1/auth/login", {
      slug: t.slug,
      headers,
      body: { email: t.owner.email, password: PASSWORD },
    });
    expectProblem(blocked, 429);
    const elsewhere = await api("POST", "/v1/auth/login", {
      slug: t.slug,
      headers: { "cf-connecting-ip": "198.51.100.1" },
      body: { email: t.owner.email, password: PASSWORD },
    });
    expect(elsewhere.status).toBe(200);
  });
});

describe("refresh and logout", () => {
  it("rotates the refresh token; reusing an old one revokes the session", async () => {
    const t = await createTenant();
    const first = await api("POST", "/v1/auth/refresh", {
      slug: t.slug,
      body: { refresh_token: t.owner.refresh },
    });
    expect(first.status).toBe(200);
    expect(first.body.refresh_token).not.toBe(t.owner.refresh);
    const second = await api("POST", "/v1/auth/refresh", {
      slug: t.slug,
      body: { refresh_token: first.body.refresh_token },
    });
    expect(second.status).toBe(200);

    // The first token again: theft is assumed, the whole session ends.
    expectProblem(
      await api("POST", "/v1/auth/refresh", {
        slug: t.slug,
        body: { refresh_token: t.owner.refresh },
      }),
      401,
    );
    expectProblem(
      await api("POST", "/v1/auth/refresh", {
        slug: t.slug,
        body: { refresh_token: second.body.refresh_token },
      }),
      401,
    );
    expectProblem(
      await api("GET", "/v1/me", { slug: t.slug, token: second.body.access_token }),
      401,
    );
    const [revoked] = await auditRows(t, "session.revoke");
    expect(JSON.parse(revoked!.after)).toEqual({ reason: "refresh_token_reuse" });
  });

  it("a made-up refresh secret for a real session is a plain 401 that revokes nothing", async () => {
    const t = await createTenant();
    const sid = t.owner.refresh.split(".")[0];
    for (const forged of [`${sid}.made-up`, `${sid}.AAAA.BBBB`, `${sid}.${"x".repeat(43)}`]) {
      expectProblem(
        await api("POST", "/v1/auth/refresh", { slug: t.slug, body: { refresh_token: forged } }),
        401,
      );
    }
    expect(await auditRows(t, "session.revoke")).toEqual([]);
    const real = await api("POST", "/v1/auth/refresh", {
      slug: t.slug,
      body: { refresh_token: t.owner.refresh },
    });
    expect(real.status).toBe(200);
  });

  it("a refresh token only works on its own tenant", async () => {
    const t = await createTenant();
    const other = await createTenant();
    expectProblem(
      await api("POST", "/v1/auth/refresh", {
        slug: other.slug,
        body: { refresh_token: t.owner.refresh },
      }),
      401,
    );
  });

  it("logout revokes the session: its access and refresh tokens stop working", async () => {
    const t = await createTenant();
    const res = await api("POST", "/v1/auth/logout", { slug: t.slug, token: t.owner.token });
    expect(res.status).toBe(204);
    expectProblem(await api("GET", "/v1/me", { slug: t.slug, token: t.owner.token }), 401);
    expectProblem(
      await api("POST", "/v1/auth/refresh", {
        slug: t.slug,
        body: { refresh_token: t.owner.refresh },
      }),
      401,
    );
  });
});

describe("email verification", () => {
  it("sign-up mails a verification link; the token verifies once", async () => {
    const t = await createTenant();
    const mail = await lastMail(t.owner.email);
    expect(mail!.subject).toContain("Welcome");
    expect(mail!.text).toContain(`http://${t.slug}.localhost:8787/verify-email?token=`);
    const token = tokenFromMail(mail!.text);
    expect(
      (await api("POST", "/v1/auth/verify-email", { slug: t.slug, body: { token } })).status,
    ).toBe(204);
    const me = await api("GET", "/v1/me", { slug: t.slug, token: t.owner.token });
    expect(me.body.user.email_verified).toBe(true);
    expectProblem(
      await api("POST", "/v1/auth/verify-email", { slug: t.slug, body: { token } }),
      400,
      "invalid_request",
    );
    expect((await auditRows(t, "user.verify_email")).length).toBe(1);
  });
});

describe("password reset", () => {
  it("sets the password once, within the hour, and revokes every session of the user", async () => {
    const t = await createTenant();
    const second = await api("POST", "/v1/auth/login", {
      slug: t.slug,
      body: { email: t.owner.email, password: PASSWORD },
    });
    await api("POST", "/v1/auth/password-reset", { slug: t.slug, body: { email: t.owner.email } });
    const token = tokenFromMail((await lastMail(t.owner.email, "Reset"))!.text);
    const newPassword = "a brand new password";
    expect(
      (
        await api("POST", "/v1/auth/password-reset/confirm", {
          slug: t.slug,
          body: { token, password: newPassword },
        })
      ).status,
    ).toBe(200);
    for (const access of [t.owner.token, second.body.access_token]) {
      expectProblem(await api("GET", "/v1/me", { slug: t.slug, token: access }), 401);
    }
    expectProblem(
      await api("POST", "/v1/auth/password-reset/confirm", {
        slug: t.slug,
        body: { token, password: "yet another password" },
      }),
      400,
    );
    expectProblem(
      await api("POST", "/v1/auth/login", {
        slug: t.slug,
        body: { email: t.owner.email, password: PASSWORD },
      }),
      401,
    );
    expect(
      (
        await api("POST", "/v1/auth/login", {
          slug: t.slug,
          body: { email: t.owner.email, password: newPassword },
        })
      ).status,
    ).toBe(200);
    expect((await auditRows(t, "user.reset_password")).length).toBe(1);
  });

  it("after a reset the user sees the API keys they created and can revoke them", async () => {
    const t = await createTenant();
    const key = await createApiKey(t, ["members:read"]);
    await api("POST", "/v1/auth/password-reset", { slug: t.slug, body: { email: t.owner.email } });
    const token = tokenFromMail((await lastMail(t.owner.email, "Reset"))!.text);
    const reset = await api("POST", "/v1/auth/password-reset/confirm", {
      slug: t.slug,
      body: { token, password: "a brand new password" },
    });
    expect(reset.status).toBe(200);
    expect(reset.body.api_keys.map((k: { id: string }) => k.id)).toEqual([key.id]);
    const login = await api("POST", "/v1/auth/login", {
      slug: t.slug,
      body: { email: t.owner.email, password: "a brand new password" },
    });
    const as = { slug: t.slug, token: login.body.access_token };
    expect((await api("GET", "/v1/me/api-keys", as)).body.data).toHaveLength(1);
    expect((await api("DELETE", `/v1/me/api-keys/${key.id}`, as)).status).toBe(204);
    expectProblem(await api("GET", "/v1/members", { slug: t.slug, token: key.key }), 401);
    expect((await api("GET", "/v1/me/api-keys", as)).body.data).toEqual([]);
  });

  it("a member may revoke only keys they created, even without api_keys:manage", async () => {
    const t = await createTenant();
    const ownerKey = await createApiKey(t, ["members:read"]);
    const viewer = await addMember(t, "viewer");
    const as = { slug: t.slug, token: viewer.tokens.access_token };
    expectProblem(await api("DELETE", `/v1/me/api-keys/${ownerKey.id}`, as), 404, "not_found");
    expect((await api("GET", "/v1/members", { slug: t.slug, token: ownerKey.key })).status).toBe(
      200,
    );
  });

  it("the reset link of a member who was removed meanwhile does nothing", async () => {
    const t = await createTenant();
    const member = await addMember(t, "member");
    await api("POST", "/v1/auth/password-reset", { slug: t.slug, body: { email: member.email } });
    const token = tokenFromMail((await lastMail(member.email, "Reset"))!.text);
    expect(
      (
        await api("DELETE", `/v1/members/${member.memberId}`, {
          slug: t.slug,
          token: t.owner.token,
        })
      ).status,
    ).toBe(204);
    expectProblem(
      await api("POST", "/v1/auth/password-reset/confirm", {
        slug: t.slug,
        body: { token, password: "a brand new password" },
      }),
      400,
    );
    const user = await env.CONTROL_DB.prepare("SELECT password_hash FROM users WHERE id = ?")
      .bind(member.userId)
      .first<{ password_hash: string }>();
    expect(await verifyPassword(PASSWORD, user!.password_hash)).toBe(true);
  });

  it("an expired reset link is refused", async () => {
    const t = await createTenant();
    await api("POST", "/v1/auth/password-reset", { slug: t.slug, body: { email: t.owner.email } });
    const token = tokenFromMail((await lastMail(t.owner.email, "Reset"))!.text);
    await env.CONTROL_DB.prepare(
      "UPDATE auth_tokens SET expires_at = ? WHERE kind = 'password_reset'",
    )
      .bind(Date.now() - 1)
      .run();
    expectProblem(
      await api("POST", "/v1/auth/password-reset/confirm", {
        slug: t.slug,
        body: { token, password: "a brand new password" },
      }),
      400,
    );
  });

  it("revokes the user's sessions in their other tenants too, and no one else's", async () => {
    const t = await createTenant();
    const member = await addMember(t, "member");
    const other = await createTenant();
    const sameUserElsewhere = await addMember(other, "viewer", member);
    const bystander = await addMember(other, "viewer");
    await api("POST", "/v1/auth/password-reset", { slug: t.slug, body: { email: member.email } });
    const token = tokenFromMail((await lastMail(member.email, "Reset"))!.text);
    await api("POST", "/v1/auth/password-reset/confirm", {
      slug: t.slug,
      body: { token, password: "a brand new password" },
    });
    expectProblem(
      await api("GET", "/v1/me", { slug: t.slug, token: member.tokens.access_token }),
      401,
    );
    expectProblem(
      await api("GET", "/v1/me", {
        slug: other.slug,
        token: sameUserElsewhere.tokens.access_token,
      }),
      401,
    );
    expect(
      (await api("GET", "/v1/me", { slug: other.slug, token: bystander.tokens.access_token }))
        .status,
    ).toBe(200);
    const revoked = await tenantD1(other)
      .prepare("SELECT revoked_reason FROM sessions WHERE user_id = ?")
      .bind(member.userId)
      .first();
    expect(revoked).toEqual({ revoked_reason: "password_reset" });
  });
});
