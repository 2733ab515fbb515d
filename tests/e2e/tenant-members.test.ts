/**
 * Members, invitations and API keys in the tenant app, each test on a fresh tenant: an owner
 * invites a teammate who accepts from the mailed link; a viewer sees no admin action and is
 * refused when forcing one; an API key is shown once, works, and stops working when revoked.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call } from "../../scripts/lib/platform.mjs";
import { launchBrowser, screenshot, seriousViolations } from "./browser";
import { API_PORT, eventually } from "./platform";
import { joinedMember, mailedLink, verifyOwner } from "./tenant-people";
import { freshTenant, ownerPage, signIn } from "./tenant-session";

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

/**
 * A form POST from inside the page (Node cannot resolve `*.localhost`; Chromium can), with the
 * page's own session cookie and CSRF field: its HTTP status.
 */
async function forcedPost(page: Page, path: string, fields: Record<string, string>) {
  const csrf = await page.locator('input[name="csrf"]').first().inputValue();
  return page.evaluate(
    async ({ path, body }) =>
      (await fetch(path, { method: "POST", body: new URLSearchParams(body) })).status,
    { path, body: { csrf, ...fields } },
  );
}

describe("tenant members and API keys", () => {
  it("invites a teammate on /members, who accepts from the mailed link as a new account", async () => {
    const t = await freshTenant("mem");
    const { context, page } = await ownerPage(browser, t);
    await page.goto(`${t.url}/members`);
    // Unverified, the owner is told why the form is unavailable.
    await page.getByText("Verify your email address before inviting").waitFor();
    expect(await page.getByRole("button", { name: "Send invitation" }).isDisabled()).toBe(true);
    // The last owner cannot be demoted or removed: said, not offered.
    await page.getByText("The last owner cannot be demoted or removed").waitFor();

    await verifyOwner(t);
    await page.reload();
    const email = `teammate@${t.slug}.example`;
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Role", { exact: true }).selectOption("member");
    await page.getByRole("button", { name: "Send invitation" }).click();
    await page.getByText(`Invitation sent to ${email}.`).waitFor();
    await page.getByRole("button", { name: `Revoke the invitation of ${email}` }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, "tenant-members");

    // The teammate, in a browser of their own, opens the mailed link.
    const link = await mailedLink(email, "accept-invitation");
    const invitee = await browser.newContext();
    const invited = await invitee.newPage();
    await invited.goto(link);
    expect(await seriousViolations(invited)).toEqual([]);
    // Opening the link consumed nothing: a second load still offers the form.
    await invited.reload();
    await invited.getByRole("heading", { name: `Join Org ${t.slug}` }).waitFor();
    await invited.getByLabel("Choose a password").fill("teammate-password-1");
    await invited.getByRole("button", { name: "Create account and join" }).click();
    await invited.waitForURL(`${t.url}/`);
    expect(await invited.getByTestId("user-email").textContent()).toBe(email);
    await expect.poll(() => invited.locator("main").textContent()).toContain("member");
    await invitee.close();

    // A used link says so as it opens.
    const again = await (await browser.newContext()).newPage();
    expect((await again.goto(link))?.status()).toBe(400);
    await expect
      .poll(() => again.getByRole("alert").textContent())
      .toMatch(/invalid, used, revoked or expired.*\(request req_/);
    expect(await seriousViolations(again)).toEqual([]);
    await again.context().close();

    // The owner sees the teammate as a member.
    await page.reload();
    await page.getByRole("cell", { name: email, exact: true }).waitFor();
    await context.close();

    // Someone with an account already (the owner of another tenant) joins with its password.
    const other = await freshTenant("meo");
    const invitedOther = await t.api({
      method: "POST",
      path: "/v1/invitations",
      body: { email: other.email, role: "viewer" },
    });
    expect(invitedOther.status).toBe(201);
    const known = await (await browser.newContext()).newPage();
    await known.goto(await mailedLink(other.email, "accept-invitation"));
    await known.getByLabel("The password of your account").fill(other.password);
    await known.getByRole("button", { name: "Sign in and join" }).click();
    await known.waitForURL(`${t.url}/`);
    expect(await known.getByTestId("user-email").textContent()).toBe(other.email);
    await known.context().close();
  });

  it("shows a viewer no admin action and refuses one they force", async () => {
    const t = await freshTenant("mev");
    await verifyOwner(t);
    const viewer = await joinedMember(t, "viewer");
    await t.api({
      method: "POST",
      path: "/v1/invitations",
      body: { email: `pending@${t.slug}.example`, role: "member" },
    });
    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, viewer);
    await page.goto(`${t.url}/members`);
    await page.getByText("Your role (viewer) cannot manage members.").waitFor();
    await page.getByText("Your role cannot invite members.").waitFor();
    for (const name of [/Send invitation/, /Change role/, /Remove/, /Revoke/])
      expect(await page.getByRole("button", { name }).count()).toBe(0);
    expect(await seriousViolations(page)).toEqual([]);

    // Forced through the app with the viewer's own CSRF field: the API refuses, the page says 403.
    expect(
      await forcedPost(page, "/members", {
        intent: "invite",
        email: `forced@${t.slug}.example`,
        role: "viewer",
      }),
    ).toBe(403);
    // And straight at the API with the viewer's token.
    const direct = await t.api({
      method: "POST",
      path: "/v1/invitations",
      token: viewer.token,
      body: { email: `direct@${t.slug}.example`, role: "viewer" },
    });
    expect(direct.status).toBe(403);
    const members = await t.api({ path: "/v1/members" });
    const owner = members.body.data.find((m: { role: string }) => m.role === "owner");
    expect(await forcedPost(page, "/members", { intent: "remove", id: owner.id })).toBe(403);
    const removal = await t.api({
      method: "DELETE",
      path: `/v1/members/${owner.id}`,
      token: viewer.token,
    });
    expect(removal.status).toBe(403);
    await context.close();
  });

  it("tells an admin what their role and the plan's seats do not allow, and the API refuses it", async () => {
    const t = await freshTenant("mea");
    await verifyOwner(t);
    const admin = await joinedMember(t, "admin");
    await joinedMember(t, "viewer");
    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, admin);
    await page.goto(`${t.url}/members`);
    // The free plan's 3 seats are taken: the form is there, unavailable, with the reason.
    await page.getByText("All 3 seats of your plan are taken").waitFor();
    expect(await page.getByRole("button", { name: "Send invitation" }).isDisabled()).toBe(true);
    // An admin cannot grant owner, nor change the owner.
    const owner = page.getByRole("option", { name: "owner (higher than your role)" }).first();
    expect(await owner.isDisabled()).toBe(true);
    await page.getByText("Your role cannot change members with the owner role").waitFor();
    const viewerRow = page.getByRole("row").filter({ hasText: "viewer-" });
    await viewerRow.getByRole("combobox").selectOption("member");
    await viewerRow.getByRole("button", { name: "Change role" }).click();
    await page.getByText("Role changed.").waitFor();
    expect(await seriousViolations(page)).toEqual([]);

    const members = await t.api({ path: "/v1/members" });
    const viewer = members.body.data.find((m: { email: string }) => m.email.startsWith("viewer-"));
    expect(viewer.role).toBe("member");
    // Forced anyway: the API refuses to make anyone owner for an admin.
    expect(
      await forcedPost(page, "/members", { intent: "role", id: viewer.id, role: "owner" }),
    ).toBe(403);
    await context.close();
  });

  it("creates an API key shown once that works against the API, then revokes it", async () => {
    const t = await freshTenant("mek");
    const { context, page } = await ownerPage(browser, t);
    await page.goto(`${t.url}/api-keys`);
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByLabel("Name").fill("ci");
    await page.getByLabel("members:read").check();
    await page.getByRole("button", { name: "Create key" }).click();
    const shown = page.getByTestId("new-key");
    await shown.waitFor();
    const key = (await shown.textContent()) ?? "";
    expect(key).toMatch(/^\S{20,}$/);
    await page.getByRole("button", { name: "Copy" }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, "tenant-api-keys");

    const asKey = (path: string) => call(API_PORT, { slug: t.slug, path, token: key });
    expect((await asKey("/v1/members")).status).toBe(200);
    // Only the permissions it was given.
    expect((await asKey("/v1/invitations")).status).toBe(403);

    // Shown once: the list never has it again.
    await page.goto(`${t.url}/api-keys`);
    expect(await page.getByTestId("new-key").count()).toBe(0);
    expect(await page.content()).not.toContain(key);
    await page.getByRole("button", { name: "Revoke ci" }).click();
    await page.getByText("revoked", { exact: true }).waitFor();
    await eventually(async () => (await asKey("/v1/members")).status === 401);
    await context.close();
  });
});
