/**
 * MFA around the tenant app's sensitive actions, in real Chromium: creating an API key asks for
 * a code (the step-up form), then succeeds; new recovery codes are shown once and the old ones
 * stop working; the owner's require-MFA policy sends a second member to enrolment; and the SCIM
 * token page creates a token shown once that works against /scim/v2, then revokes it.
 */
import { totpCode } from "@tenantry/core/totp";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call } from "../../scripts/lib/platform.mjs";
import { launchBrowser, screenshot, seriousViolations } from "./browser";
import { API_PORT, eventually, grantFeature } from "./platform";
import { joinedMember, verifyOwner } from "./tenant-people";
import { type FreshTenant, freshTenant, ownerPage } from "./tenant-session";

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

/** Enrols the owner through the API (the enrolment page has its own test): secret and codes. */
async function enrolOwner(t: FreshTenant) {
  const start = await t.api({ method: "POST", path: "/v1/me/mfa/enrol" });
  const secret = (start.body as { secret: string }).secret;
  const confirm = await t.api({
    method: "POST",
    path: "/v1/me/mfa/confirm",
    body: { code: totpCode(secret) },
  });
  expect(confirm.status).toBe(200);
  return { secret, recoveryCodes: (confirm.body as { recovery_codes: string[] }).recovery_codes };
}

describe("step-up and recovery codes", () => {
  it("asks for a code before creating an API key, then creates it; new recovery codes replace the old", async () => {
    const t = await freshTenant("mfs");
    const { context, page } = await ownerPage(browser, t);
    // Enrolled after the browser signed in: its session has proved no code yet.
    const { secret, recoveryCodes } = await enrolOwner(t);
    await page.goto(`${t.url}/api-keys`);
    const createKey = async () => {
      await page.getByLabel("Name").fill("ci");
      await page.getByLabel("members:read").check();
      await page.getByRole("button", { name: "Create key" }).click();
    };
    await createKey();
    const code = page.getByLabel("Confirm with your code (authenticator or recovery code)");
    await code.waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    // The next time step's code: the current one was spent on enrolment.
    await code.fill(totpCode(secret, Date.now() + 30_000));
    await page.getByRole("button", { name: "Confirm", exact: true }).click();
    await page.waitForURL(`${t.url}/api-keys`);
    await createKey();
    await page.getByTestId("new-key").waitFor();

    // New recovery codes, right after the step-up: no code needed.
    await page.goto(`${t.url}/account/security`);
    await page.getByRole("button", { name: "Generate new recovery codes" }).click();
    await page.getByRole("heading", { name: "New recovery codes" }).waitFor();
    const fresh = await page.locator(".recovery-codes code").allTextContents();
    expect(fresh).toHaveLength(10);
    expect(fresh.filter((c) => recoveryCodes.includes(c))).toEqual([]);
    expect(await seriousViolations(page)).toEqual([]);
    const verify = (c: string) =>
      t.api({ method: "POST", path: "/v1/me/mfa/verify", body: { code: c } });
    expect((await verify(recoveryCodes[0] ?? "")).status).toBe(403);
    expect((await verify(fresh[0] ?? "")).status).toBe(200);
    // Shown once: the page never has them again.
    await page.goto(`${t.url}/account/security`);
    expect(await page.content()).not.toContain(fresh[1]);
    await context.close();
  });
});

describe("require MFA for every member", () => {
  it("sends a member without MFA to enrolment after sign-in, from any page", async () => {
    const t = await freshTenant("mfp");
    await verifyOwner(t);
    const member = await joinedMember(t, "member");
    await enrolOwner(t);
    const policy = await t.api({
      method: "PATCH",
      path: "/v1/settings/security",
      body: { require_mfa: true },
    });
    expect(policy.status).toBe(200);

    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${t.url}/sign-in`);
    await page.getByLabel("Email").fill(member.email);
    await page.getByLabel("Password").fill(member.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${t.url}/account/security`);
    await page.getByText("This workspace requires two-factor authentication").waitFor();
    await page.goto(`${t.url}/members`);
    await page.waitForURL(`${t.url}/account/security`);
    expect(await seriousViolations(page)).toEqual([]);
    await context.close();
  });
});

describe("SCIM tokens", () => {
  it("creates a token shown once with the base URL, which works until it is revoked", async () => {
    const t = await freshTenant("msc");
    const me = await t.api({ path: "/v1/me" });
    grantFeature((me.body as { tenant: { id: string } }).tenant.id, "sso");
    const { context, page } = await ownerPage(browser, t);
    await page.goto(`${t.url}/settings`);
    await page.getByRole("link", { name: "SCIM provisioning tokens" }).click();
    await page.waitForURL(`${t.url}/settings/scim`);
    expect(await page.getByTestId("scim-base").textContent()).toBe(`${t.url}/scim/v2`);
    expect(await seriousViolations(page)).toEqual([]);

    await page.getByLabel("Name").fill("Okta");
    await page.getByRole("button", { name: "Create token" }).click();
    const shown = page.getByTestId("new-scim-token");
    await shown.waitFor();
    const token = (await shown.textContent()) ?? "";
    expect(token).toMatch(/^scim_\S{20,}$/);
    await page.getByRole("button", { name: "Copy" }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, "tenant-scim");

    const users = () => call(API_PORT, { slug: t.slug, path: "/scim/v2/Users", token });
    expect((await users()).status).toBe(200);
    await page.goto(`${t.url}/settings/scim`);
    expect(await page.getByTestId("new-scim-token").count()).toBe(0);
    expect(await page.content()).not.toContain(token);
    await page.getByRole("button", { name: "Revoke Okta" }).click();
    await page.getByText("revoked", { exact: true }).waitFor();
    await eventually(async () => (await users()).status === 401);
    await context.close();
  });
});
