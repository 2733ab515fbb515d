import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { totpCode } from "@tenantry/core/totp";
import { RouterContextProvider } from "react-router";
import { describe, expect, it } from "vitest";
import { action as operatorsAction } from "../app/routes/operators";
import { action as signInAction } from "../app/routes/sign-in";
import { action as signOutAction } from "../app/routes/sign-out";
import { action as tokensAction, loader as tokensLoader } from "../app/routes/tokens";
import { safeNext, sessionCookie } from "../server/page-auth";
import { adminRequest, newAdminRequest } from "../server/request";
import { ADMIN, auditRowsOf, OPERATOR_PASSWORD, operatorWithPassword } from "./helpers";

type Args = { request: Request; context: RouterContextProvider; params: Record<string, string> };

/** A page request as the worker entry hands it to React Router (context with the bindings). */
function page(path: string, init: { form?: Record<string, string>; headers?: HeadersInit } = {}) {
  const ctx = createExecutionContext();
  const request = new Request(`${ADMIN}${path}`, {
    method: init.form ? "POST" : "GET",
    headers: init.headers,
    body: init.form ? new URLSearchParams(init.form) : undefined,
  });
  const context = new RouterContextProvider();
  const req = newAdminRequest(request, env, ctx);
  context.set(adminRequest, req);
  const args: Args = { request, context, params: {} };
  return { args, requestId: req.requestId, done: () => waitOnExecutionContext(ctx) };
}

/** Runs a loader or action; a thrown Response (redirect, 403) is its answer too. */
async function run<T>(fn: (args: never) => Promise<T>, args: Args): Promise<T | Response> {
  try {
    return await fn(args as never);
  } catch (thrown) {
    if (thrown instanceof Response) return thrown;
    throw thrown;
  }
}

async function signedIn() {
  const op = await operatorWithPassword("platform_admin");
  const { args } = page("/sign-in", {
    headers: { origin: ADMIN },
    form: {
      email: op.email,
      password: OPERATOR_PASSWORD,
      code: totpCode(op.totpSecret),
      next: "/tokens?x=1",
    },
  });
  const res = (await run(signInAction, args)) as Response;
  const cookie = res.headers.get("set-cookie") ?? "";
  return { op, res, cookie: cookie.split(";")[0] ?? "" };
}

describe("operator pages", () => {
  it("sign-in sets a strict HttpOnly session cookie and goes to a same-site next", async () => {
    const { res } = await signedIn();
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/tokens?x=1");
    const cookie = res.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^tenantry_operator=/);
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Strict");
    expect(cookie).toContain("Path=/");
  });

  it("uses a Secure __Host- cookie over https", () => {
    const cookie = sessionCookie({ ...env, PUBLIC_SCHEME: "https" }, "s3cret");
    expect(cookie).toMatch(/^__Host-tenantry_operator=s3cret;/);
    expect(cookie).toContain("Secure");
    expect(cookie).not.toContain("Domain");
  });

  it("only follows next to a path on this host", () => {
    expect(safeNext("/tenants?q=a")).toBe("/tenants?q=a");
    for (const next of ["//evil.example", "/\\evil.example", "https://evil.example", "", null]) {
      expect(safeNext(next)).toBe("/");
    }
  });

  it("refuses a sign-in form posted from another site, or without an Origin", async () => {
    const op = await operatorWithPassword();
    for (const headers of [{ origin: "https://evil.example" }, {}] as HeadersInit[]) {
      const { args } = page("/sign-in", {
        headers,
        form: { email: op.email, password: OPERATOR_PASSWORD, code: totpCode(op.totpSecret) },
      });
      const res = (await run(signInAction, args)) as Response;
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ code: "csrf_failed" });
    }
  });

  it("shows a refused sign-in as the form's error", async () => {
    const op = await operatorWithPassword();
    const { args } = page("/sign-in", {
      headers: { origin: ADMIN },
      form: { email: op.email, password: "wrong", code: "000000" },
    });
    const res = await run(signInAction, args);
    expect(res).toMatchObject({ init: { status: 401 }, data: { error: expect.any(String) } });
  });

  it("sends an operator without a session to sign-in, coming back afterwards", async () => {
    const { args } = page("/tokens?tab=1");
    const res = (await run(tokensLoader, args)) as Response;
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/sign-in?next=%2Ftokens%3Ftab%3D1");
  });

  it("checks every action's CSRF token, sign-out included", async () => {
    const { cookie } = await signedIn();
    const loaded = page("/tokens", { headers: { cookie } });
    const { csrf } = (await run(tokensLoader, loaded.args)) as { csrf: string };
    await loaded.done();

    const forged = page("/tokens", {
      headers: { cookie },
      form: { csrf: `${csrf.slice(0, -1)}x`, name: "ci", days: "7", reason: "forged" },
    });
    const refused = (await run(tokensAction, forged.args)) as Response;
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ code: "csrf_failed" });
    expect(await auditRowsOf(forged.requestId)).toEqual([]);

    const real = page("/tokens", {
      headers: { cookie },
      form: { csrf, name: "ci", days: "7", reason: "nightly export" },
    });
    expect(await run(tokensAction, real.args)).toMatchObject({
      created: expect.stringMatching(/^tnop_/),
    });
    expect(await auditRowsOf(real.requestId)).toMatchObject([{ action: "operator_token.create" }]);

    const invite = page("/operators", {
      headers: { cookie },
      form: {
        csrf,
        intent: "invite",
        email: `${crypto.randomUUID()}@ops.example`,
        name: "Page invite",
        role: "support",
        reason: "joins",
      },
    });
    expect(await run(operatorsAction, invite.args)).toMatchObject({
      setupUrl: expect.stringContaining("/setup/"),
    });

    const badSignOut = page("/sign-out", { headers: { cookie }, form: { csrf: "nope" } });
    expect(((await run(signOutAction, badSignOut.args)) as Response).status).toBe(403);
    const signOut = page("/sign-out", { headers: { cookie }, form: { csrf } });
    const out = (await run(signOutAction, signOut.args)) as Response;
    expect(out.headers.get("location")).toBe("/sign-in");
    expect(out.headers.get("set-cookie")).toMatch(/^tenantry_operator=;.*Max-Age=0/);
    // The session row is revoked: the same cookie no longer opens a page.
    const after = page("/tokens", { headers: { cookie } });
    expect(((await run(tokensLoader, after.args)) as Response).status).toBe(302);
  });
});
