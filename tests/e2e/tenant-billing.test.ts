/**
 * Billing and usage in the tenant app, in real Chromium, each test from a fresh tenant: an
 * upgrade through the Stripe emulator's hosted Checkout page until the plan arrives (webhooks →
 * re-sync), the billing portal, usage in the chart and its table, the 80% quota alert, and a
 * past-due tenant (no grace in the e2e platform) shown read-only with writes refused.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, screenshot, seriousViolations } from "./browser";
import { eventually, STRIPE_KEY, STRIPE_PORT } from "./platform";
import { type FreshTenant, freshTenant, ownerPage } from "./tenant-session";

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

/** The Stripe emulator's API (form bodies) and its test controls under /_emulator (JSON). */
async function stripe(path: string, body?: Record<string, string | number>) {
  const control = path.startsWith("/_emulator/");
  const res = await fetch(`http://localhost:${STRIPE_PORT}${path}`, {
    method: body ? "POST" : "GET",
    headers: {
      authorization: `Bearer ${STRIPE_KEY}`,
      ...(body && {
        "content-type": control ? "application/json" : "application/x-www-form-urlencoded",
      }),
    },
    body: body
      ? control
        ? JSON.stringify(body)
        : new URLSearchParams(Object.entries(body).map(([k, v]) => [k, String(v)]))
      : undefined,
  });
  // biome-ignore lint/suspicious/noExplicitAny: Stripe objects, read by the test as it needs.
  const json: any = await res.json();
  if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** Reloads `page` until `check` holds: state that arrives asynchronously (webhooks). */
async function reloadUntil(page: Page, check: () => Promise<boolean>) {
  await eventually(async () => {
    if (await check()) return true;
    await page.reload();
    return false;
  });
}

async function reportUsage(tenant: FreshTenant, values: number[]) {
  const at = new Date().toISOString();
  const res = await tenant.api({
    method: "POST",
    path: "/v1/usage/events",
    body: {
      events: values.map((value, i) => ({
        id: `e2e-${i}`,
        metric: "events",
        value,
        timestamp: at,
      })),
    },
  });
  expect(res.body).toMatchObject({ accepted: values.length });
}

describe("billing in the tenant app", () => {
  it("upgrades through the hosted Checkout page; the paid plan arrives from Stripe", async () => {
    const tenant = await freshTenant("bill");
    const { context, page } = await ownerPage(browser, tenant);
    await page.goto(`${tenant.url}/billing`);
    await expect(page.getByTestId("current-plan").textContent()).resolves.toContain("Free");
    expect(await seriousViolations(page)).toEqual([]);

    await page.getByRole("button", { name: "Upgrade to Pro (monthly)" }).click();
    await page.waitForURL(/\/checkout\/cs_/);
    await page.getByRole("button", { name: "Pay", exact: true }).click();
    await page.waitForURL(`${tenant.url}/billing?checkout=complete`);
    const plan = page.getByTestId("current-plan");
    await reloadUntil(page, async () => {
      const text = (await plan.textContent()) ?? "";
      return text.includes("Pro") && text.includes("active");
    });
    await expect(plan.textContent()).resolves.toContain("Renews on");
    await expect(page.locator("#invoices ~ table").textContent()).resolves.toContain("paid");
    // A live subscription changes plans in the portal, not through a second checkout.
    expect(await page.getByRole("button", { name: /Upgrade to/ }).count()).toBe(0);
    await screenshot(page, "tenant-billing");
    await context.close();
  });

  it("Manage billing opens the Stripe billing portal", async () => {
    const tenant = await freshTenant("portal");
    const { context, page } = await ownerPage(browser, tenant);
    await page.goto(`${tenant.url}/billing`);
    await page.getByRole("button", { name: "Manage billing" }).click();
    await page.waitForURL(/localhost:\d+\/portal\//);
    await expect(page.getByRole("heading", { level: 1 }).textContent()).resolves.toContain(
      `Billing for ${tenant.email}`,
    );
    await context.close();
  });

  it("a past-due tenant past grace shows the read-only banner, and a write is refused with the reason", async () => {
    const tenant = await freshTenant("due");
    const checkout = await tenant.api({
      method: "POST",
      path: "/v1/billing/checkout",
      body: { plan: "pro", interval: "month" },
    });
    const sessionId = String(checkout.body.url).split("/checkout/")[1] as string;
    // Paid as the hosted page's Pay button does; its success redirect re-syncs the plan.
    const paid = await stripe(`/_emulator/checkout/sessions/${sessionId}/complete`, {});
    const success = new URL(paid.redirect);
    expect((await tenant.api({ path: success.pathname + success.search })).status).toBe(303);
    expect((await tenant.api({ path: "/v1/billing" })).body).toMatchObject({ status: "active" });
    const session = await stripe(`/v1/checkout/sessions/${sessionId}`);
    // The card now fails, and a mid-period change charges at once: the subscription is past_due.
    await stripe(`/_emulator/customers/${session.customer}/payment_outcome`, { outcome: "fail" });
    const subscription = await stripe(`/v1/subscriptions/${session.subscription}`);
    const licensed = subscription.items.data.find(
      (i: { price: { recurring: { usage_type: string } } }) =>
        i.price.recurring.usage_type === "licensed",
    );
    await stripe(`/v1/subscriptions/${session.subscription}`, {
      "items[0][id]": licensed.id,
      "items[0][quantity]": 2,
      proration_behavior: "always_invoice",
    });
    // Only Stripe's webhooks bring the failed payment.
    let last: unknown;
    await eventually(async () => {
      const billing = await tenant.api({ path: "/v1/billing" });
      last = billing.body;
      return billing.body.access === "read_only";
    }).catch((err) => {
      throw new Error(`${err}; last GET /v1/billing: ${JSON.stringify(last)}`);
    });

    const { context, page } = await ownerPage(browser, tenant);
    const banner = page.getByTestId("billing-banner");
    await expect(banner.textContent()).resolves.toContain("This workspace is read-only");
    await page.goto(`${tenant.url}/billing`);
    await expect(page.getByTestId("current-plan").textContent()).resolves.toContain("past_due");
    await expect(banner.textContent()).resolves.toContain("read-only");

    const write = await tenant.api({
      method: "POST",
      path: "/v1/api-keys",
      body: { name: "ci", permissions: ["members:read"] },
    });
    expect(write.status).toBe(403);
    expect(write.body).toMatchObject({
      code: "billing_read_only",
      billing_status: "past_due",
      access: "read_only",
    });
    expect(write.body.detail).toContain("read-only until billing is settled");

    // In the app, a form's write is refused beside it, explained, with the request id.
    await page.goto(`${tenant.url}/projects`);
    await page.getByLabel("Name").fill("After the due date");
    await page.getByRole("button", { name: "Create project" }).click();
    // The form's problem, not the banner (also an alert): it carries the request id.
    const refused = page.getByRole("alert").filter({ hasText: /\(request req_/ });
    await expect.poll(() => refused.textContent()).toContain("read-only until billing is settled");
    await expect(refused.getByRole("link", { name: "Open billing" }).count()).resolves.toBe(1);
    await context.close();
  });
});

describe("usage in the tenant app", () => {
  it("ingested usage appears in the chart and its table, hourly and daily", async () => {
    const tenant = await freshTenant("use");
    await reportUsage(tenant, [7, 7, 7]);
    const { context, page } = await ownerPage(browser, tenant);
    await page.goto(`${tenant.url}/usage?granularity=hour`);
    const events = page.getByTestId("usage-events");
    await expect(events.locator("table").textContent()).resolves.toContain("21");
    // recharts draws once JavaScript runs (the caption and table carry the numbers before).
    await events.locator(".recharts-bar-rectangle path").first().waitFor({ state: "attached" });
    // The chart's accessible title (the legend's icons are SVGs too).
    expect(await events.locator("svg title").allTextContents()).toContainEqual(
      expect.stringContaining("events per hour"),
    );
    expect(await events.getByTestId("quota-alert").count()).toBe(0);

    await page.getByRole("link", { name: "Daily (30 days)" }).click();
    await page.waitForURL(/granularity=day/);
    await expect(events.locator("table").textContent()).resolves.toContain("21");
    await expect(events.locator("figcaption").textContent()).resolves.toContain(
      "21 of 10,000 used",
    );
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, "tenant-usage");
    await context.close();
  });

  it("crossing 80% of a quota shows the alert", async () => {
    const tenant = await freshTenant("quota");
    // The free plan's events quota is 10,000 a month (hard).
    await reportUsage(tenant, [8_100]);
    const { context, page } = await ownerPage(browser, tenant);
    await page.goto(`${tenant.url}/usage`);
    const alert = page.getByTestId("usage-events").getByTestId("quota-alert");
    await expect(alert.textContent()).resolves.toContain("Quota almost reached: 81% of events");
    await expect(alert.textContent()).resolves.toContain("further events are refused");
    await context.close();
  });
});
