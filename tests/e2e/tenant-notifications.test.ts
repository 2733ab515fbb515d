/**
 * In-app notifications in real Chromium, from a fresh tenant: a teammate accepts an invitation
 * through the API, the owner's bell names one unread notification, the notifications page lists
 * it (axe: no serious violations), and marking it read drops the bell's count.
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { call } from "../../scripts/lib/platform.mjs";
import { launchBrowser, screenshot, seriousViolations } from "./browser";
import { API_PORT, eventually } from "./platform";
import { type FreshTenant, freshTenant, ownerPage } from "./tenant-session";

let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

/** The token in the newest mail to `to` whose link goes to `path` (the dev outbox). */
async function mailedToken(tenant: FreshTenant, to: string, path: string): Promise<string> {
  return eventually(async () => {
    const { body } = await tenant.api({ path: `/_dev/outbox?to=${encodeURIComponent(to)}` });
    for (const mail of (body?.data ?? []) as { text: string }[]) {
      const token = mail.text.match(new RegExp(`${path}\\?token=([^\\s]+)`))?.[1];
      if (token) return decodeURIComponent(token);
    }
    return null;
  });
}

/** A teammate joins through the API: the owner verifies their email, invites, the invitee accepts. */
async function teammateJoins(tenant: FreshTenant, email: string) {
  const verify = await tenant.api({
    method: "POST",
    path: "/v1/auth/verify-email",
    body: { token: await mailedToken(tenant, tenant.email, "/verify-email") },
  });
  expect(verify.status).toBeLessThan(300);
  const invited = await tenant.api({
    method: "POST",
    path: "/v1/invitations",
    body: { email, role: "member" },
  });
  expect(invited.status, JSON.stringify(invited.body)).toBe(201);
  const accepted = await call(API_PORT, {
    slug: tenant.slug,
    method: "POST",
    path: "/v1/invitations/accept",
    body: {
      token: await mailedToken(tenant, email, "/accept-invitation"),
      password: "teammate password 1",
    },
  });
  expect(accepted.status, JSON.stringify(accepted.body)).toBe(201);
}

it("a notification appears with the bell's count and is marked read", async () => {
  const tenant = await freshTenant("ntf");
  const teammate = `teammate@${tenant.slug}.example`;
  await teammateJoins(tenant, teammate);

  const { context, page } = await ownerPage(browser, tenant);
  const bell = page.getByRole("link", { name: "Notifications, 1 unread" });
  await bell.click();
  await page.waitForURL(`${tenant.url}/notifications`);
  const item = page.getByRole("listitem").filter({ hasText: `${teammate} joined as member` });
  await item.getByText("Unread").waitFor();
  expect(await seriousViolations(page)).toEqual([]);
  await screenshot(page, "tenant-notifications");

  await item.getByRole("button", { name: /^Mark as read/ }).click();
  await page.getByRole("link", { name: "Notifications, none unread" }).waitFor();
  await page.getByText("All read").waitFor();
  expect(await item.getByText("Unread").count()).toBe(0);
  await context.close();
});
