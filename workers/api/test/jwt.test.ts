/** JWT attacks: every one is a 401 with nothing else revealed. */
import { env } from "cloudflare:workers";
import { importJWK, type JWK, SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { api, createTenant, expectProblem, type TestTenant } from "./helpers";

let a: TestTenant;
let b: TestTenant;
let claims: { sub: string; tid: string; sid: string };

const b64 = (o: unknown) =>
  btoa(JSON.stringify(o)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

async function sign(
  payload: Record<string, unknown>,
  opts: { key?: JWK; iss?: string; aud?: string; exp?: number | string; iat?: number } = {},
) {
  const jwk = opts.key ?? (JSON.parse(env.JWT_PRIVATE_KEY) as JWK);
  const key = await importJWK(jwk, "ES256");
  const jwt = new SignJWT(payload)
    .setProtectedHeader({ alg: "ES256", kid: jwk.kid ?? "test" })
    .setSubject(claims.sub)
    .setIssuer(opts.iss ?? env.JWT_ISSUER)
    .setAudience(opts.aud ?? env.JWT_AUDIENCE)
    .setIssuedAt(opts.iat)
    .setExpirationTime(opts.exp ?? "10m");
  return jwt.sign(key);
}

const me = (t: TestTenant, token: string) => api("GET", "/v1/me", { slug: t.slug, token });

beforeAll(async () => {
  a = await createTenant();
  b = await createTenant();
  const payload = JSON.parse(
    atob(a.owner.token.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/")),
  );
  claims = { sub: payload.sub, tid: payload.tid, sid: payload.sid };
});

describe("access tokens", () => {
  it("a token signed the same way as ours is accepted (control)", async () => {
    const res = await me(a, await sign({ tid: claims.tid, sid: claims.sid }));
    expect(res.status).toBe(200);
  });

  it("carries sub, tid, sid, pinned issuer and audience, and lives at most 15 minutes", () => {
    const [header, payload] = a.owner.token
      .split(".")
      .slice(0, 2)
      .map((p) => JSON.parse(atob(p.replace(/-/g, "+").replace(/_/g, "/"))));
    expect(header.alg).toBe("ES256");
    expect(payload).toMatchObject({
      sub: a.owner.id,
      tid: a.tenant.id,
      iss: env.JWT_ISSUER,
      aud: env.JWT_AUDIENCE,
    });
    expect(payload.sid).toMatch(/^ses_/);
    expect(payload.exp - payload.iat).toBeLessThanOrEqual(900);
  });

  it('alg "none" → 401', async () => {
    const token = `${b64({ alg: "none", typ: "JWT" })}.${b64({ ...claims, iss: env.JWT_ISSUER, aud: env.JWT_AUDIENCE, exp: Math.floor(Date.now() / 1000) + 600 })}.`;
    expectProblem(await me(a, token), 401, "unauthorized");
  });

  it("HS256 signed with the public key as secret (algorithm confusion) → 401", async () => {
    const { d: _d, ...pub } = JSON.parse(env.JWT_PRIVATE_KEY) as JWK;
    const secret = new TextEncoder().encode(JSON.stringify(pub));
    const token = await new SignJWT({ tid: claims.tid, sid: claims.sid })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(claims.sub)
      .setIssuer(env.JWT_ISSUER)
      .setAudience(env.JWT_AUDIENCE)
      .setExpirationTime("10m")
      .sign(secret);
    expectProblem(await me(a, token), 401, "unauthorized");
  });

  it("signed with another key → 401", async () => {
    const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
      "sign",
      "verify",
    ])) as CryptoKeyPair;
    const jwk = (await crypto.subtle.exportKey("jwk", pair.privateKey)) as JWK;
    expectProblem(
      await me(
        a,
        await sign({ tid: claims.tid, sid: claims.sid }, { key: { ...jwk, kid: "test" } }),
      ),
      401,
    );
  });

  it("expired → 401", async () => {
    const past = Math.floor(Date.now() / 1000) - 3600;
    expectProblem(
      await me(a, await sign({ tid: claims.tid, sid: claims.sid }, { iat: past, exp: past + 60 })),
      401,
    );
  });

  it("issued with a lifetime beyond 15 minutes is still bounded by its age", async () => {
    const old = Math.floor(Date.now() / 1000) - 1800;
    expectProblem(
      await me(a, await sign({ tid: claims.tid, sid: claims.sid }, { iat: old, exp: old + 86400 })),
      401,
    );
  });

  it("wrong issuer or audience → 401", async () => {
    expectProblem(
      await me(
        a,
        await sign({ tid: claims.tid, sid: claims.sid }, { iss: "https://evil.example" }),
      ),
      401,
    );
    expectProblem(
      await me(a, await sign({ tid: claims.tid, sid: claims.sid }, { aud: "another-api" })),
      401,
    );
  });

  it("altered tid (payload edited, signature kept) → 401", async () => {
    const [h, p, s] = a.owner.token.split(".");
    const payload = JSON.parse(atob(p!.replace(/-/g, "+").replace(/_/g, "/")));
    const forged = `${h}.${b64({ ...payload, tid: b.tenant.id })}.${s}`;
    expectProblem(await me(b, forged), 401);
  });

  it("validly signed for tenant A but presented on tenant B's host → 401", async () => {
    expectProblem(await me(b, await sign({ tid: claims.tid, sid: claims.sid })), 401);
  });

  it("validly signed with B's tid but A's session → 401 (the session must exist in B)", async () => {
    expectProblem(await me(b, await sign({ tid: b.tenant.id, sid: claims.sid })), 401);
  });
});
