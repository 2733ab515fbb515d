/**
 * Sign-up and the auth pages in real Chromium: the apex's sign-up form (with and without
 * JavaScript) hands the new owner to their tenant host with a one-time code (ADR 018); the
 * hand-off URL replayed is refused; forgot → reset password through the mailed link; email
 * verification through the mailed link ticks the dashboard's first-run checklist; an email that
 * already has an account confirms its new organisation from the mail.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call } from "../../scripts/lib/platform.mjs";
import { launchBrowser, screenshot, seriousViolations } from "./browser";
import { API_PORT, eventually } from "./platform";
import { freshTenant, ownerPage, signIn } from "./tenant-session";

const APEX = `http://localhost:${API_PORT}`;
let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

/** The newest mail to `to` whose subject has `subject`, once the MAIL queue delivered it. */
async function mailTo(to: string, subject: string): Promise<{ subject: string; text: string }> {
  return eventually(async () => {
    const { body } = await call(API_PORT, { path: `/_dev/outbox?format=json&to=${to}` });
    const mails = (body as { data: { subject: string; text: string }[] }).data;
    return mails.find((m) => m.subject.includes(subject));
  });
}

function linkIn(text: string, path: string): string {
  const link = text.match(new RegExp(`https?://\\S+${path}\\?token=\\S+`))?.[0];
  if (!link) throw new Error(`no ${path} link in:\n${text}`);
  return link;
}

/** Fills and sends the apex's sign-up form; resolves with the hand-off URL the browser followed. */
async function signUp(page: Page, slug: string, email: string): Promise<string> {
  let handoff = "";
  page.on("request", (r) => {
    if (r.url().includes("/auth/handoff?code=")) handoff = r.url();
  });
  await page.goto(`${APEX}/`);
  await page.getByLabel("Organisation name").fill(`Org ${slug}`);
  await page.getByLabel("Address").fill(slug);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(`${slug}-password`);
  await page.getByRole("button", { name: "Create organisation" }).click();
  await page.waitForURL(`http://${slug}.localhost:${API_PORT}/`).catch(async (e) => {
    throw new Error(`${e}\nat ${page.url()}:\n${await page.locator("body").textContent()}`);
  });
  return handoff;
}

async function sessionCookie(context: BrowserContext, url: string) {
  return (await context.cookies(url)).find((c) => c.name.endsWith("tenantry_session"));
}

const newSlug = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2, 8)}`;

describe("sign-up on the apex", () => {
  it("lands signed in on the new tenant host; the hand-off URL works once", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${APEX}/`);
    await expect
      .poll(() => page.getByRole("heading", { level: 1 }).textContent())
      .toBe("Create your organisation");
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, "tenant-signup");

    const slug = newSlug("su");
    const tenantUrl = `http://${slug}.localhost:${API_PORT}`;
    const handoff = await signUp(page, slug, `owner@${slug}.example`);
    expect(handoff).toContain(`${tenantUrl}/auth/handoff?code=`);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe(`Org ${slug}`);
    expect(await page.getByTestId("user-email").textContent()).toBe(`owner@${slug}.example`);
    // The session cookie lives on the tenant host only; the apex never held one.
    expect(await sessionCookie(context, tenantUrl)).toBeDefined();
    expect(await sessionCookie(context, APEX)).toBeUndefined();

    // The first-run checklist: nothing done yet but the account itself.
    const checklist = page.getByRole("region", { name: "Get started" });
    await checklist.waitFor();
    expect(await checklist.locator('[data-done="true"]').count()).toBe(0);
    expect(
      await checklist.getByRole("link", { name: "Create a first project" }).getAttribute("href"),
    ).toBe("/projects");
    await screenshot(page, "tenant-onboarding");

    // Signed-in pages do not exist on the apex.
    await page.goto(`${APEX}/members`);
    expect(page.url()).toBe(`${APEX}/`);

    // The hand-off URL replayed, in another browser: refused, and nobody is signed in.
    const other = await browser.newContext();
    const replay = await other.newPage();
    const res = await replay.goto(handoff);
    expect(res?.status()).toBe(401);
    expect(await replay.getByRole("heading", { level: 1 }).textContent()).toBe(
      "This sign-in link no longer works",
    );
    expect(await replay.getByRole("link", { name: "Sign in" }).getAttribute("href")).toBe(
      "/sign-in",
    );
    expect(await sessionCookie(other, tenantUrl)).toBeUndefined();
    await other.close();
    await context.close();
  });

  it("works without JavaScript", async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    const slug = newSlug("nojs");
    await signUp(page, slug, `owner@${slug}.example`);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe(`Org ${slug}`);
    await context.close();
  });

  it("an email that already has an account confirms the new organisation from the mail", async () => {
    const existing = await freshTenant("ex");
    const context = await browser.newContext();
    const page = await context.newPage();
    const slug = newSlug("ex2");
    await page.goto(`${APEX}/`);
    await page.getByLabel("Organisation name").fill(`Org ${slug}`);
    await page.getByLabel("Address").fill(slug);
    await page.getByLabel("Email").fill(existing.email);
    await page.getByLabel("Password").fill("any password at all");
    await page.getByRole("button", { name: "Create organisation" }).click();
    await page.getByRole("heading", { name: "Check your mail" }).waitFor();

    const mail = await mailTo(existing.email, "Confirm your new organisation");
    const link = linkIn(mail.text, "/signup/confirm");
    expect(link.startsWith(`${APEX}/signup/confirm?token=`)).toBe(true);
    await page.goto(link);
    await page.getByRole("button", { name: "Create the organisation" }).click();
    await page.waitForURL(`http://${slug}.localhost:${API_PORT}/`);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe(`Org ${slug}`);
    await context.close();
  });
});

describe("auth pages on a tenant host", () => {
  it("forgot password → the mailed link → a new password → sign in with it", async () => {
    const tenant = await freshTenant("fp");
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${tenant.url}/sign-in`);
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByRole("link", { name: "Forgot password?" }).click();
    await page.waitForURL(`${tenant.url}/forgot-password`);
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByLabel("Email").fill(tenant.email);
    await page.getByRole("button", { name: "Mail me a link" }).click();
    await page.getByRole("status").waitFor();
    // Worded for any address: the page never tells whether one has an account.
    expect(await page.getByRole("status").textContent()).toContain("If ");

    const mail = await mailTo(tenant.email, "Reset your Tenantry password");
    const link = linkIn(mail.text, "/reset-password");
    expect(link.startsWith(`${tenant.url}/reset-password?token=`)).toBe(true);
    await page.goto(link);
    await page.getByLabel("New password").fill("a brand new password");
    await page.getByRole("button", { name: "Set password" }).click();
    await page.getByRole("heading", { name: "Password changed" }).waitFor();
    await page.getByRole("link", { name: "Sign in" }).click();
    await signIn(page, { ...tenant, password: "a brand new password" });
    expect(await page.getByTestId("user-email").textContent()).toBe(tenant.email);
    await context.close();
  });

  it("verifying the email through the mailed link ticks the checklist; the mail can be resent", async () => {
    const tenant = await freshTenant("ve");
    const { context, page } = await ownerPage(browser, tenant);
    const verifyStep = page.locator('[data-step="verify"]');
    expect(await verifyStep.getAttribute("data-done")).toBe("false");
    await verifyStep.getByRole("button", { name: "Resend the mail" }).click();
    await verifyStep.getByRole("status").waitFor();

    const mail = await mailTo(tenant.email, "Verify your email address");
    const link = linkIn(mail.text, "/verify-email");
    expect(link.startsWith(`${tenant.url}/verify-email?token=`)).toBe(true);
    await page.goto(link);
    await page.getByRole("button", { name: "Verify my address" }).click();
    await page.getByRole("heading", { name: "Email address verified" }).waitFor();
    await page.getByRole("link", { name: "Go to the dashboard" }).click();
    await page.waitForURL(`${tenant.url}/`);
    expect(await page.locator('[data-step="verify"]').getAttribute("data-done")).toBe("true");

    // Progress is the API's state, whichever client made it: a project made through the API.
    const project = await tenant.api({ method: "POST", path: "/v1/projects", body: { name: "P" } });
    expect(project.status).toBe(201);
    await page.reload();
    expect(await page.locator('[data-step="project"]').getAttribute("data-done")).toBe("true");
    expect(await page.getByText("2 of 4 done").count()).toBe(1);
    await context.close();
  });
});
