/** The admin app in real Chromium, on admin.localhost as in development. */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { launchBrowser } from "./browser";
import { ADMIN_URL } from "./platform";

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

describe("the admin host", () => {
  it("serves the operator app with a strict CSP and refuses a tenant's token", async () => {
    const page = await browser.newPage();
    const res = await page.goto(`${ADMIN_URL}/`);
    expect(res?.headers()["content-security-policy"]).toContain("frame-ancestors 'none'");
    // From the page itself: the browser's own fetch, same origin as the operator app.
    const status = await page.evaluate(
      async (token) =>
        (await fetch("/api/v1/me", { headers: { authorization: `Bearer ${token}` } })).status,
      inject("e2eToken"),
    );
    expect(status).toBe(401);
    await page.close();
  });
});
