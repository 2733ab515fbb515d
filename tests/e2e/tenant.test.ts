/**
 * The tenant app in real Chromium, on the e2e tenant's host as in development (ADR 017): the
 * owner signs in, sees the dashboard `GET /v1/me` feeds, and signs out; a refused access token
 * is renewed with the refresh token; the API's own paths on the same host still reach the API.
 */
import { request } from "node:http";
import type { Browser, BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NAV } from "../../apps/tenant/app/nav";
import { call } from "../../scripts/lib/platform.mjs";
import { launchBrowser, screenshot, seriousViolations } from "./browser";
import { API_PORT, E2E_TENANT, eventually } from "./platform";
import { freshTenant, ownerPage } from "./tenant-session";

const TENANT_URL = `http://${E2E_TENANT.slug}.localhost:${API_PORT}`;
let browser: Browser;

/** The tokens and CSRF secret the session cookie holds (URL-encoded base64 JSON, apps/tenant/server/session.ts). */
async function sessionTokens(context: BrowserContext) {
  const [cookie] = await context.cookies(TENANT_URL);
  if (!cookie) throw new Error("no session cookie");
  return {
    cookie,
    tokens: JSON.parse(atob(decodeURIComponent(cookie.value))) as {
      accessToken: string;
      refreshToken: string;
      csrf: string;
    },
  };
}

/** Whether the API still honours `refreshToken` (a revoked session's is refused). */
async function refreshStatus(refreshToken: string): Promise<number> {
  const { status } = await call(API_PORT, {
    slug: E2E_TENANT.slug,
    method: "POST",
    path: "/v1/auth/refresh",
    body: { refresh_token: refreshToken },
  });
  return status;
}

/** A form post to the tenant app as a browser on `origin` would send it. */
function postForm(path: string, origin: string, fields: Record<string, string>) {
  const body = new URLSearchParams(fields).toString();
  return new Promise<{ status: number; cookies: string[] }>((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port: API_PORT,
        method: "POST",
        path,
        headers: {
          host: `${E2E_TENANT.slug}.localhost:${API_PORT}`,
          origin,
          "content-type": "application/x-www-form-urlencoded",
          "content-length": Buffer.byteLength(body),
        },
      },
      (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, cookies: res.headers["set-cookie"] ?? [] });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

describe("the tenant app", () => {
  it("routes the API's paths on a tenant host to the API and every other path to the app", async () => {
    // Through Chromium, which resolves *.localhost (Node does not).
    const page = await (await browser.newContext()).newPage();
    const api = await page.goto(`${TENANT_URL}/v1/me`);
    expect(api?.status()).toBe(401);
    expect(api?.headers()["content-type"]).toContain("application/problem+json");
    const app = await page.goto(`${TENANT_URL}/sign-in`);
    expect(app?.status()).toBe(200);
    expect(app?.headers()["content-security-policy"]).toContain("frame-ancestors 'none'");
    await page.context().close();
  });

  it("refuses a wrong password with the API's problem and its request id", async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${TENANT_URL}/sign-in`);
    await page.getByLabel("Email").fill(E2E_TENANT.email);
    await page.getByLabel("Password").fill("not-the-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toMatch(/\(request req_/);
    await page.context().close();
  });

  it("signs the owner in, shows the dashboard and signs out", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${TENANT_URL}/`);
    await page.waitForURL(`${TENANT_URL}/sign-in`);
    await page.getByLabel("Email").fill(E2E_TENANT.email);
    await page.getByLabel("Password").fill(E2E_TENANT.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${TENANT_URL}/`);
    await expect
      .poll(() => page.getByRole("heading", { level: 1 }).textContent())
      .toBe(E2E_TENANT.name);
    expect(await page.getByTestId("user-email").textContent()).toBe(E2E_TENANT.email);
    const { cookie, tokens } = await sessionTokens(context);
    expect(cookie).toMatchObject({ name: "tenantry_session", httpOnly: true, sameSite: "Lax" });
    await screenshot(page, "tenant-dashboard");

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(`${TENANT_URL}/sign-in`);
    expect(await context.cookies(TENANT_URL)).toEqual([]);
    // The API session is revoked, not only the cookie dropped.
    expect(await refreshStatus(tokens.refreshToken)).toBe(401);
    await context.close();
  });

  it("renews a refused access token with the refresh token, keeping the user signed in", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${TENANT_URL}/sign-in`);
    await page.getByLabel("Email").fill(E2E_TENANT.email);
    await page.getByLabel("Password").fill(E2E_TENANT.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${TENANT_URL}/`);
    // An access token the API refuses, as an expired one would be.
    const { cookie, tokens: signedIn } = await sessionTokens(context);
    const stale = (tokens: object) =>
      encodeURIComponent(btoa(JSON.stringify({ ...tokens, accessToken: "expired" })));
    await context.addCookies([{ ...cookie, value: stale(signedIn) }]);
    await page.reload();
    expect(await page.getByTestId("user-email").textContent()).toBe(E2E_TENANT.email);
    const { tokens: renewed } = await sessionTokens(context);
    expect(renewed.accessToken).not.toBe("expired");
    expect(renewed.refreshToken).not.toBe(signedIn.refreshToken);

    // Signing out with a refused access token still revokes the session.
    await context.addCookies([{ ...cookie, value: stale(renewed) }]);
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(`${TENANT_URL}/sign-in`);
    expect(await refreshStatus(renewed.refreshToken)).toBe(401);
    await context.close();
  });

  it("gives tenant A's session cookie nothing on tenant B's host", async () => {
    const [a, b] = await Promise.all([freshTenant("xa"), freshTenant("xb")]);
    const { context, page } = await ownerPage(browser, a);
    const [cookie] = await context.cookies(a.url);
    if (!cookie) throw new Error("no session cookie");
    // Host-only: the browser never sends it to B by itself; planted there by hand, B's pages
    // still refuse it, because the API refuses A's tokens on B's host.
    await context.addCookies([{ ...cookie, domain: new URL(b.url).hostname }]);
    await page.goto(`${b.url}/`);
    await page.waitForURL(`${b.url}/sign-in`);
    expect(await page.content()).not.toContain(a.email);
    // The refused cookie is cleared on B, and A's session still works on A.
    expect(await context.cookies(b.url)).toEqual([]);
    await page.goto(`${a.url}/`);
    expect(await page.getByTestId("user-email").textContent()).toBe(a.email);
    await context.close();
  });

  it("does not count a person's page views as the tenant's API calls", async () => {
    const tenant = await freshTenant("calls");
    const { context, page } = await ownerPage(browser, tenant);
    // Ten page views, each several API calls through the app's own entrypoint (ADR 022).
    for (const path of ["/", "/projects", "/members", "/api-keys", "/billing"]) {
      await page.goto(`${tenant.url}${path}`);
      await page.goto(`${tenant.url}/`);
    }
    await context.close();
    // Only this test's own direct calls to the API are API calls: each poll is one.
    let polls = 0;
    const used = await eventually(async () => {
      polls++;
      const r = await tenant.api({ path: "/v1/usage?metric=api_calls" });
      const n = (r.body as { period?: { used: number } }).period?.used ?? 0;
      return n > 0 ? n : null;
    });
    expect(used).toBeLessThanOrEqual(polls);
  });

  it("has no serious or critical accessibility violations on any signed-in page", async () => {
    const tenant = await freshTenant("a11y");
    const { context, page } = await ownerPage(browser, tenant);
    const found: Record<string, string[]> = {};
    for (const path of [...NAV.map((item) => item.to), "/notifications"]) {
      await page.goto(`${tenant.url}${path}`);
      await page.locator("main h1").first().waitFor();
      const violations = await seriousViolations(page);
      if (violations.length) found[path] = violations;
    }
    expect(found).toEqual({});
    await context.close();
  });

  it("refuses a form posted from another site, even where no session protects it yet", async () => {
    const credentials = { email: E2E_TENANT.email, password: E2E_TENANT.password };
    for (const origin of ["http://evil.example", "null", `http://other.localhost:${API_PORT}`]) {
      const forged = await postForm("/sign-in", origin, credentials);
      expect(forged.status).toBe(403);
      expect(forged.cookies).toEqual([]);
    }
    // The same form from the tenant's own pages signs in.
    const own = await postForm("/sign-in", TENANT_URL, credentials);
    expect(own.status).toBe(302);
    expect(own.cookies.join()).toContain("tenantry_session=");
  });
});
