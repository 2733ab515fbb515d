/**
 * The admin app in real Chromium, on admin.localhost as in development: an operator signs in
 * with password and TOTP and works through the pages (forms, links, buttons); the effect is
 * checked on the tenant's own API, from Node (`call`), with the tenant owner's token.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { DEMO_OPERATOR } from "../../scripts/lib/demo-operator.mjs";
import { call, ensureTenant } from "../../scripts/lib/platform.mjs";
import { launchBrowser, screenshot, seriousViolations, signInOperator } from "./browser";
import { ADMIN_URL, API_PORT, eventually } from "./platform";

let browser: Browser;
/** The operator's signed-in cookies: one sign-in per run, since a TOTP code is accepted once. */
let operatorState: Awaited<ReturnType<BrowserContext["storageState"]>> | undefined;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

async function newContext(options: Parameters<Browser["newContext"]>[0] = {}) {
  const context = await browser.newContext(options);
  contexts.push(context);
  return context;
}

/** A page of a signed-in operator (signing in through the page on first use). */
async function operatorPage(): Promise<Page> {
  if (!operatorState) {
    const page = await (await newContext()).newPage();
    await signInOperator(page, ADMIN_URL);
    operatorState = await page.context().storageState();
  }
  return (await newContext({ storageState: operatorState })).newPage();
}

/** A freshly signed-up tenant of its own for each test, with its owner's access token. */
async function freshTenant(label: string) {
  const slug = `adm-${label}-${Date.now().toString(36)}`;
  const name = `Admin ${label} ${Date.now().toString(36)}`;
  const token = await ensureTenant(API_PORT, {
    slug,
    name,
    email: `owner@${slug}.example`,
    password: "browser-password-1",
  });
  const tenantApi = (req: { method?: string; path: string; body?: unknown; token?: string }) =>
    call(API_PORT, { slug, token, ...req });
  return { slug, name, token, api: tenantApi };
}

/** Searches /tenants by slug and opens the tenant's detail page from the result. */
async function openTenant(page: Page, tenant: { slug: string; name: string }) {
  await page.goto(`${ADMIN_URL}/tenants`);
  await page.locator("#q").fill(tenant.slug);
  await page.getByLabel("Search field").selectOption("slug");
  await page.getByRole("button", { name: "Search" }).click();
  await page.waitForURL(/\/tenants\?/);
  const link = page.getByRole("link", { name: tenant.name });
  await link.waitFor();
  await link.click();
  await page.getByRole("heading", { level: 1, name: tenant.name }).waitFor();
  return page.url().split("/tenants/")[1] ?? "";
}

/** The detail page's form whose submit button is `button`. */
const formOf = (page: Page, button: string) =>
  page.locator("form", { has: page.getByRole("button", { name: button, exact: true }) });

async function suspendOnPage(page: Page, reason: string) {
  const form = formOf(page, "Suspend");
  await form.getByLabel("Reason (required, audited)").fill(reason);
  await form.getByRole("button", { name: "Suspend", exact: true }).click();
  await page.getByText("Suspended. Its API refuses requests").waitFor();
}

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

describe("an operator in the browser", () => {
  afterAll(async () => {
    for (const context of contexts) await context.close();
  });

  it("signs in with password and TOTP", async () => {
    const page = await (await newContext()).newPage();
    await page.goto(`${ADMIN_URL}/tenants`);
    expect(new URL(page.url()).pathname).toBe("/sign-in");
    await screenshot(page, "admin-sign-in");
    await signInOperator(page, ADMIN_URL);
    expect(page.url()).toBe(`${ADMIN_URL}/`);
    await page.getByText(`${DEMO_OPERATOR.name} · ${DEMO_OPERATOR.role}`).waitFor();
    await screenshot(page, "admin-home");
    operatorState = await page.context().storageState();
  });

  it("searches a tenant by slug and opens its detail page with usage charts", async () => {
    const tenant = await freshTenant("search");
    for (const name of ["Roadmap", "Launch"]) {
      expect(
        (await tenant.api({ method: "POST", path: "/v1/projects", body: { name } })).status,
      ).toBe(201);
    }
    const events = Array.from({ length: 12 }, (_, i) => ({
      id: `browser-${i}`,
      metric: "events",
      value: 5,
      timestamp: new Date().toISOString(),
    }));
    const usage = await tenant.api({ method: "POST", path: "/v1/usage/events", body: { events } });
    expect(usage.status).toBe(200);

    const page = await operatorPage();
    await page.goto(`${ADMIN_URL}/tenants`);
    await page.locator("#q").fill(tenant.slug);
    await page.getByLabel("Search field").selectOption("slug");
    await page.getByRole("button", { name: "Search" }).click();
    await page.waitForURL(/\/tenants\?/);
    // The unfiltered list showed every tenant; the search narrows it to this one.
    const rows = page.locator("tbody tr");
    await eventually(async () => (await rows.count()) === 1, 10_000);
    expect(await rows.first().textContent()).toContain(`owner@${tenant.slug}.example`);
    await screenshot(page, "admin-tenants");

    await page.getByRole("link", { name: tenant.name }).click();
    await page.getByRole("heading", { level: 1, name: tenant.name }).waitFor();
    // The meter flushes every 2 s here and the metering worker writes the ledger: the chart
    // of `events` gets today's bar once that has happened.
    await eventually(async () => {
      await page.reload();
      const today = new Date().toISOString().slice(0, 10);
      const cells = await page
        .locator("details tbody tr", { hasText: today })
        .locator("td")
        .allTextContents();
      return cells.includes("60");
    });
    // Recharts draws again once hydrated: wait for today's bar and the axes before the shot.
    const chart = page.locator("figure.chart", { hasText: "events per day" });
    await chart.locator(".recharts-bar-rectangle .recharts-rectangle").first().waitFor();
    await chart.locator(".recharts-cartesian-axis-tick-value").first().waitFor();
    await screenshot(page, "admin-tenant-detail");
  });

  it("suspends a tenant with a reason: its API refuses, and answers again once reactivated", async () => {
    const tenant = await freshTenant("suspend");
    expect((await tenant.api({ path: "/v1/me" })).status).toBe(200);
    const page = await operatorPage();
    await openTenant(page, tenant);
    await suspendOnPage(page, "Browser test: abuse report");
    // Within REGISTRY_CACHE_TTL_SECONDS (1 s in the e2e platform).
    const refused = await eventually(async () => {
      const res = await tenant.api({ path: "/v1/me" });
      return res.status === 403 ? res : null;
    }, 15_000);
    expect(refused.body.code).toBe("tenant_suspended");

    const form = formOf(page, "Reactivate");
    await form.getByLabel("Reason (required, audited)").fill("Browser test: resolved");
    await form.getByRole("button", { name: "Reactivate" }).click();
    await page.getByText("Reactivated; its API answers again at once.").waitFor();
    expect((await tenant.api({ path: "/v1/me" })).status).toBe(200);
  });

  it("adds a projects override on the detail page and the tenant's limit moves", async () => {
    const tenant = await freshTenant("override");
    const project = (n: number) =>
      tenant.api({ method: "POST", path: "/v1/projects", body: { name: `Project ${n}` } });
    for (const n of [1, 2, 3]) expect((await project(n)).status).toBe(201);
    const fourth = await project(4);
    expect(fourth.status).toBe(403);
    expect(fourth.body.code).toBe("plan_limit_reached");

    const page = await operatorPage();
    await openTenant(page, tenant);
    const form = formOf(page, "Add override");
    await form.locator('[name="type"]').selectOption("limit");
    await form.locator('[name="key"]').fill("projects");
    await form.locator('[name="value"]').fill("5");
    await form.getByLabel("Reason (required, audited)").fill("Browser test: pilot needs 5");
    await form.getByRole("button", { name: "Add override" }).click();
    await page.getByText("Override created").waitFor();
    const projectsRow = page.locator("section", { hasText: "Entitlements" }).locator("tr", {
      has: page.getByRole("cell", { name: "projects", exact: true }),
    });
    const limit = projectsRow.first().locator("td").nth(1);
    await eventually(async () => (await limit.textContent()) === "5", 10_000);

    expect((await project(4)).status).toBe(201);
    expect((await project(5)).status).toBe(201);
    expect((await project(6)).body.code).toBe("plan_limit_reached");
  });

  it("starts read-only support access: writes are refused and the tenant's audit log names it", async () => {
    const tenant = await freshTenant("support");
    const reason = "Browser test: customer asked why a project is missing";
    const page = await operatorPage();
    await page.goto(`${ADMIN_URL}/support`);
    await page.locator("#tenant").fill(tenant.slug);
    await page.getByRole("button", { name: "Open" }).click();
    await page.getByRole("heading", { name: `Start support access to ${tenant.name}` }).waitFor();
    await page.locator("#reason").fill(reason);
    await page.locator("#ticketId").fill("T-1234");
    expect(await page.locator("#mode").inputValue()).toBe("read");
    await page.getByRole("button", { name: "Start", exact: true }).click();
    await page.waitForURL(/\/support\/[^/?]+$/);
    await page.getByRole("button", { name: "Get token" }).click();
    const tokenBlock = page.locator(".card pre").first();
    await tokenBlock.waitFor();
    const token = (await tokenBlock.textContent())?.trim() ?? "";
    expect(token.split(".")).toHaveLength(3);
    await screenshot(page, "admin-support");

    // Reads work as the owner; writes are refused.
    const read = await tenant.api({ path: "/v1/me", token });
    expect(read.status, JSON.stringify(read.body)).toBe(200);
    const write = await tenant.api({
      method: "POST",
      path: "/v1/projects",
      body: { name: "Should not exist" },
      token,
    });
    expect(write.status).toBe(403);
    expect(write.body.code).toBe("support_read_only");

    const entry = await eventually(async () => {
      const log = await tenant.api({ path: "/v1/audit-log" });
      const entries: { action: string; after: Record<string, unknown> }[] = log.body?.data ?? [];
      return entries.find((e) => e.action === "support.start");
    }, 15_000);
    expect(entry.after).toMatchObject({
      operator: { email: DEMO_OPERATOR.email },
      reason,
      ticket_id: "T-1234",
      mode: "read",
    });
  });

  it("shows the suspension in the operator audit log with its before and after", async () => {
    const tenant = await freshTenant("audit");
    const page = await operatorPage();
    await openTenant(page, tenant);
    await suspendOnPage(page, "Browser test: chargeback");

    await page.getByRole("link", { name: "Audit", exact: true }).click();
    await page.getByRole("heading", { name: "Operator audit log" }).waitFor();
    await page.locator("#tenant").fill(tenant.slug);
    await page.locator("#action").selectOption("tenant.suspend");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL(/\/audit\?/);
    // The filtered page replaces the unfiltered one (which lists other tests' suspensions too).
    await expect.poll(() => page.locator("tbody tr").count(), { timeout: 10_000 }).toBe(1);
    const row = page.locator("tbody tr", { hasText: "Browser test: chargeback" });
    await row.waitFor();
    const text = await row.textContent();
    expect(text).toContain(DEMO_OPERATOR.email);
    expect(text).toContain(tenant.slug);
    expect(text).toContain('status: "active" → "suspended"');
    await screenshot(page, "admin-audit");
  });

  it("gives a tenant user's token and cookies nothing on the admin host", async () => {
    const tenant = await freshTenant("realm");
    const page = await (await newContext()).newPage();
    await page.goto(`${ADMIN_URL}/sign-in`);
    const statuses = await page.evaluate(async (token) => {
      const get = async (path: string) =>
        (await fetch(path, { headers: { authorization: `Bearer ${token}` } })).status;
      return [await get("/api/v1/me"), await get("/api/v1/tenants")];
    }, tenant.token);
    expect(statuses).toEqual([401, 401]);

    // The tenant's token in a cookie, under the operator session's name and tenant-like names.
    const context = await newContext();
    await context.addCookies(
      ["tenantry_operator", "tenantry_session", "access_token"].map((name) => ({
        name,
        value: tenant.token,
        domain: "admin.localhost",
        path: "/",
      })),
    );
    const cookiePage = await context.newPage();
    await cookiePage.goto(`${ADMIN_URL}/tenants`);
    const url = new URL(cookiePage.url());
    expect(url.pathname).toBe("/sign-in");
    expect(url.searchParams.get("next")).toBe("/tenants");
  });

  it("refuses a form post with a forged CSRF token, and takes the page's own", async () => {
    const tenant = await freshTenant("csrf");
    const page = await operatorPage();
    const id = await openTenant(page, tenant);
    const registryStatus = page.locator("tr", { has: page.locator("th", { hasText: /^status$/ }) });
    // The operator's own session cookie goes along (same origin); only the token differs.
    const post = (csrf: string) =>
      page.evaluate(
        async ({ path, csrf }) => {
          const form = new FormData();
          form.set("intent", "suspend");
          form.set("reason", "posted by a test");
          form.set("csrf", csrf);
          const res = await fetch(path, { method: "POST", body: form });
          return { status: res.status, text: await res.text() };
        },
        { path: `/tenants/${id}`, csrf },
      );
    const forged = await post("forged-token");
    expect(forged.status).toBe(403);
    expect(forged.text).toContain("came from another site");
    await page.reload();
    expect(await registryStatus.locator("td").textContent()).toBe("active");
    expect((await tenant.api({ path: "/v1/me" })).status).toBe(200);

    // The same post with the token the page's forms carry goes through.
    const csrf = await page.locator('input[name="csrf"]').first().inputValue();
    expect((await post(csrf)).status).toBe(200);
    await page.reload();
    expect(await registryStatus.locator("td").textContent()).toBe("suspended");
  });

  it("has no serious or critical accessibility violations on sign-in, tenants and detail", async () => {
    const tenant = await freshTenant("a11y");
    const anonymous = await (await newContext()).newPage();
    await anonymous.goto(`${ADMIN_URL}/sign-in`);
    const found: Record<string, string[]> = { "sign-in": await seriousViolations(anonymous) };

    const page = await operatorPage();
    await page.goto(`${ADMIN_URL}/tenants`);
    found.tenants = await seriousViolations(page);
    await openTenant(page, tenant);
    found.detail = await seriousViolations(page);
    expect(found).toEqual({ "sign-in": [], tenants: [], detail: [] });
  });
});
