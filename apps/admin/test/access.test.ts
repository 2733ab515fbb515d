import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ACCESS_AUD, ACCESS_TEAM_DOMAIN } from "../../../tests/access-team";
import { accessCsrfToken, operatorFromAccess } from "../server/access";
import { adminApi } from "../server/api";
import { adminConfig } from "../server/env";
import { signIn } from "../server/services/sign-in";
import { ADMIN, operatorWithToken, requestContext } from "./helpers";

/** The worker's bindings as production sets them: behind Cloudflare Access. */
const accessEnv = { ...env, ENVIRONMENT: "production", ACCESS_TEAM_DOMAIN, ACCESS_AUD };

/** An Access JWT signed by the stand-in team (or by a key it never published). */
async function accessJwt(claims: Record<string, unknown>, key?: "other"): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const res = await fetch(`${ACCESS_TEAM_DOMAIN}/_access/sign`, {
    method: "POST",
    body: JSON.stringify({
      claims: { iss: ACCESS_TEAM_DOMAIN, aud: [ACCESS_AUD], iat: now, exp: now + 300, ...claims },
      key,
    }),
  });
  return ((await res.json()) as { jwt: string }).jwt;
}

async function me(jwt: string | null, token?: string) {
  const headers = new Headers();
  if (jwt) headers.set("cf-access-jwt-assertion", jwt);
  if (token) headers.set("authorization", `Bearer ${token}`);
  const ctx = createExecutionContext();
  const res = await adminApi.fetch(new Request(`${ADMIN}/api/v1/me`, { headers }), accessEnv, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

const withJwt = (jwt: string) =>
  new Request(`${ADMIN}/`, { headers: { "cf-access-jwt-assertion": jwt } });

describe("Cloudflare Access in production", () => {
  it("lets a valid Access token of an active operator in, with the operator's role", async () => {
    const op = await operatorWithToken("billing");
    const jwt = await accessJwt({ email: op.email.toUpperCase() });
    expect(await operatorFromAccess(accessEnv, withJwt(jwt))).toMatchObject({
      id: op.id,
      role: "billing",
      via: { type: "access", id: op.email },
    });
    const res = await me(jwt, op.token);
    expect(res.status).toBe(200);
    // The page CSRF token comes from the JWT: stable for it, unguessable without it.
    expect(await accessCsrfToken(withJwt(jwt))).toBe(await accessCsrfToken(withJwt(jwt)));
    expect(await accessCsrfToken(withJwt(jwt))).not.toBe(await accessCsrfToken(withJwt(`${jwt}x`)));
  });

  it.each([
    ["no token", async () => null],
    [
      "another application's audience",
      async (email: string) => accessJwt({ email, aud: ["other-app"] }),
    ],
    [
      "another issuer",
      async (email: string) => accessJwt({ email, iss: "https://evil.cloudflareaccess.com" }),
    ],
    [
      "an expired token",
      async (email: string) => accessJwt({ email, exp: Math.floor(Date.now() / 1000) - 60 }),
    ],
    ["a key the team never published", async (email: string) => accessJwt({ email }, "other")],
    ["an email that is no operator", async () => accessJwt({ email: "stranger@example.com" })],
    ["no email at all", async () => accessJwt({ sub: "service-token" })],
  ])("refuses %s with 403, even with a valid operator token", async (_, jwtFor) => {
    const op = await operatorWithToken("platform_admin");
    const jwt = await jwtFor(op.email);
    const res = await me(jwt, op.token);
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ code: "access_denied" });
    await expect(operatorFromAccess(accessEnv, withJwt(jwt ?? ""))).rejects.toMatchObject({
      status: 403,
    });
  });

  it("turns password sign-in off", async () => {
    await expect(
      signIn({
        ctx: { ...requestContext(), env: accessEnv },
        input: { email: "ops@tenantry.dev", password: "x", code: "000000" },
      }),
    ).rejects.toMatchObject({ status: 403, code: "access_only" });
  });

  it("refuses a disabled operator", async () => {
    const op = await operatorWithToken("support");
    await env.CONTROL_DB.prepare("UPDATE operators SET status = 'disabled' WHERE id = ?")
      .bind(op.id)
      .run();
    const res = await me(await accessJwt({ email: op.email }), op.token);
    expect(res.status).toBe(403);
  });

  it("refuses to serve production without Access configured", async () => {
    const bare = { ...env, ENVIRONMENT: "production" };
    expect(() => adminConfig(bare)).toThrow(/Cloudflare Access/);
    expect(() => adminConfig({ ...env, ACCESS_AUD })).toThrow(/both ACCESS_TEAM_DOMAIN/);
    const ctx = createExecutionContext();
    const res = await adminApi.fetch(new Request(`${ADMIN}/api/health`), bare, ctx);
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(500);
  });
});
