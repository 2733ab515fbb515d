import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { RouterContextProvider } from "react-router";
import { describe, expect, it } from "vitest";
import { ACCESS_AUD, ACCESS_TEAM_DOMAIN } from "../../../tests/access-team";
import { operatorFromAccess, pageAccess } from "../server/access";
import { adminApi } from "../server/api";
import { adminConfig } from "../server/env";
import { requireOperator } from "../server/page-auth";
import { adminRequest, newAdminRequest } from "../server/request";
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
    // Pages: Access is the sign-in; the CSRF token comes from the JWT (stable for it only).
    const first = await pageAccess(accessEnv, withJwt(jwt));
    expect(first.operator.id).toBe(op.id);
    expect((await pageAccess(accessEnv, withJwt(jwt))).csrfToken).toBe(first.csrfToken);
    const other = await pageAccess(
      accessEnv,
      withJwt(await accessJwt({ email: op.email, iat: 1 })),
    );
    expect(other.csrfToken).not.toBe(first.csrfToken);
    const context = new RouterContextProvider();
    context.set(adminRequest, {
      ...newAdminRequest(withJwt(jwt), accessEnv, createExecutionContext()),
      access: first,
    });
    const page = await requireOperator({ request: withJwt(jwt), context }, "billing:write");
    expect(page).toMatchObject({
      operator: { id: op.id, via: { type: "access" } },
      csrfToken: first.csrfToken,
    });
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
