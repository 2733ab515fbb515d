/**
 * MFA in real Chromium: the owner enrols TOTP on the security page with a code computed here
 * from the secret the page shows, sees the recovery codes once, signs out and back in with a
 * code; a recovery code signs in once (without JavaScript), and the second time it is refused.
 * The owner turns on the require-MFA policy from the same page.
 */
import { totpCode } from "@tenantry/core/totp";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, screenshot, seriousViolations } from "./browser";
import { type FreshTenant, freshTenant, ownerPage } from "./tenant-session";

let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

/** Email and password, then the code step; resolves once the page shows what followed. */
async function signInWithCode(page: Page, tenant: FreshTenant, code: string) {
  await page.goto(`${tenant.url}/sign-in`);
  await page.getByLabel("Email").fill(tenant.email);
  await page.getByLabel("Password").fill(tenant.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByLabel("Code from your authenticator app, or a recovery code").fill(code);
  await page.getByRole("button", { name: "Verify" }).click();
}

describe("two-factor authentication", () => {
  it("enrols, signs in with a code, and takes a recovery code once", async () => {
    const tenant = await freshTenant("mfa");
    const { context, page } = await ownerPage(browser, tenant);
    await page.goto(`${tenant.url}/account/security`);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Security");
    expect(await seriousViolations(page)).toEqual([]);

    await page.getByRole("button", { name: "Set up two-factor authentication" }).click();
    const secret = (await page.getByTestId("totp-secret").textContent()) ?? "";
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByLabel("Code from your authenticator app").fill(totpCode(secret));
    await page.getByRole("button", { name: "Confirm and turn on" }).click();
    const codes = page.locator(".recovery-codes code");
    await codes.first().waitFor();
    const recoveryCodes = await codes.allTextContents();
    expect(recoveryCodes).toHaveLength(10);
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, "tenant-mfa");

    // The owner's policy: every member must have MFA (the session proved a code at enrolment).
    const policy = page.getByLabel("Require two-factor authentication for every member");
    await policy.check();
    await page.getByRole("button", { name: "Save policy" }).click();
    await expect
      .poll(() => tenant.api({ path: "/v1/settings/security" }))
      .toMatchObject({
        body: { require_mfa: true },
      });

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(/\/sign-in/);
    // The next time step's code: the current one was spent on enrolment.
    await signInWithCode(page, tenant, totpCode(secret, Date.now() + 30_000));
    await page.waitForURL(`${tenant.url}/`);
    await context.close();

    // Without JavaScript: plain form posts all the way.
    const noJs = await browser.newContext({ javaScriptEnabled: false });
    const plain = await noJs.newPage();
    await signInWithCode(plain, tenant, recoveryCodes[0] ?? "");
    await plain.waitForURL(`${tenant.url}/`);
    await plain.getByRole("button", { name: "Sign out" }).click();
    await plain.waitForURL(/\/sign-in/);
    await signInWithCode(plain, tenant, recoveryCodes[0] ?? "");
    await expect
      .poll(() => plain.getByRole("alert").textContent())
      .toContain("not valid or was already used");
    await noJs.close();
  });
});
