/**
 * Settings and branding in real Chromium (issue 11): an owner renames the organisation, uploads a
 * logo (and sees an SVG refused with the reason), sets an accent colour, and finds each change in
 * the audit log, where filtering by action narrows the list. Both pages pass axe.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, screenshot, seriousViolations } from "./browser";
import { eventually } from "./platform";
import { type FreshTenant, freshTenant, ownerPage, signIn } from "./tenant-session";

/** A real 1×1 PNG, so the browser decodes it in the header. */
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
  "base64",
);
const SVG = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

/** The page's computed `--accent` (the tsconfig has no DOM types: the page's globals, typed here). */
const accent = (page: Page) =>
  page.evaluate(() => {
    const w = globalThis as unknown as {
      document: { documentElement: unknown };
      getComputedStyle(e: unknown): { getPropertyValue(name: string): string };
    };
    return w.getComputedStyle(w.document.documentElement).getPropertyValue("--accent").trim();
  });

/** The token in the newest development mail to `to` whose link has `path`. */
async function mailedToken(tenant: FreshTenant, to: string, path: string): Promise<string> {
  const pattern = new RegExp(`${path}\\?token=([^\\s]+)`);
  return eventually(async () => {
    const outbox = await tenant.api({
      path: `/_dev/outbox?format=json&to=${encodeURIComponent(to)}`,
    });
    const mails = (outbox.body as { data: { text: string }[] }).data;
    const match = mails.map((m) => pattern.exec(m.text)).find(Boolean);
    return match?.[1] && decodeURIComponent(match[1]);
  });
}

/** A member (not an admin) of `tenant`, invited and accepted through the API and the outbox. */
async function member(tenant: FreshTenant) {
  // Only a verified owner may invite.
  const verify = await mailedToken(tenant, tenant.email, "/verify-email");
  await tenant.api({ method: "POST", path: "/v1/auth/verify-email", body: { token: verify } });
  const email = `member@${tenant.slug}.example`;
  const password = `${tenant.slug}-member-password`;
  const invited = await tenant.api({
    method: "POST",
    path: "/v1/invitations",
    body: { email, role: "member" },
  });
  expect(invited.status, JSON.stringify(invited.body)).toBe(201);
  const token = await mailedToken(tenant, email, "/accept-invitation");
  const accepted = await tenant.api({
    method: "POST",
    path: "/v1/invitations/accept",
    body: { token, password },
  });
  expect(accepted.status, JSON.stringify(accepted.body)).toBeLessThan(300);
  return { url: tenant.url, email, password };
}

describe("settings and the audit log", () => {
  it("renames, brands and audits the organisation, and filters the log by action", async () => {
    const tenant = await freshTenant("set");
    const { context, page } = await ownerPage(browser, tenant);
    await page.goto(`${tenant.url}/settings`);

    await page.getByLabel("Name", { exact: true }).fill("Renamed Org");
    await page.getByRole("button", { name: "Rename" }).click();
    await page.getByRole("status").filter({ hasText: "renamed" }).waitFor();
    expect(await page.getByTestId("brand-name").textContent()).toBe("Renamed Org");

    const file = page.getByLabel("Logo file");
    await file.setInputFiles({ name: "logo.png", mimeType: "image/png", buffer: PNG });
    await page.getByRole("button", { name: "Upload logo" }).click();
    const logo = page.getByTestId("brand-logo");
    await logo.waitFor();
    expect(
      await logo.evaluate((el) => {
        const img = el as unknown as { decode(): Promise<void>; naturalWidth: number };
        return img.decode().then(() => img.naturalWidth);
      }),
    ).toBe(1);

    await file.setInputFiles({ name: "logo.svg", mimeType: "image/svg+xml", buffer: SVG });
    await page.getByRole("button", { name: "Upload logo" }).click();
    const refused = page.getByRole("alert");
    await refused.waitFor();
    expect(await refused.textContent()).toMatch(
      /SVG logos are refused: an SVG can carry scripts.*request req_/,
    );

    const colour = page.getByLabel("Colour (hex, like #0b57d0)");
    await colour.fill("#ffcc00");
    await page.getByRole("button", { name: "Save colour" }).click();
    await page.getByRole("alert").filter({ hasText: "contrast" }).waitFor();
    await colour.fill("#1a4d2e");
    await page.getByRole("button", { name: "Save colour" }).click();
    await page.getByRole("status").filter({ hasText: "colour was saved" }).waitFor();
    expect(await accent(page)).toBe("#1a4d2e");

    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, "tenant-settings");

    await page.getByRole("link", { name: "Audit log" }).click();
    await page.waitForURL(`${tenant.url}/audit-log`);
    const rows = page.locator("[data-testid=audit-entries] tbody tr");
    await rows.first().waitFor();
    const actions = await rows.evaluateAll((trs) =>
      trs.map((tr) => tr.getAttribute("data-action")),
    );
    expect(actions.filter((a) => a === "branding.update")).toHaveLength(2);
    expect(actions).toContain("tenant.rename");
    expect(await accent(page)).toBe("#1a4d2e");
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, "tenant-audit-log");

    await page.getByLabel("Action").fill("tenant.rename");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL(/action=tenant\.rename/);
    await expect
      .poll(() => rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-action"))))
      .toEqual(["tenant.rename"]);
    expect(await rows.first().textContent()).toContain("Renamed Org");
    await context.close();
  });

  it("shows a member the settings read-only, with the reason", async () => {
    const tenant = await freshTenant("ro");
    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, await member(tenant));
    await page.goto(`${tenant.url}/settings`);
    expect(await page.getByTestId("read-only-reason").textContent()).toContain(
      "Only owners and admins can change these settings; your role is member",
    );
    expect(await page.getByLabel("Name", { exact: true }).isDisabled()).toBe(true);
    expect(await page.getByRole("button", { name: "Upload logo" }).isDisabled()).toBe(true);
    expect(await seriousViolations(page)).toEqual([]);
    await context.close();
  });
});
