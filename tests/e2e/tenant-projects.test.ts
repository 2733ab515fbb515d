/**
 * The example product in the tenant app (projects and tasks), each test from a fresh tenant on
 * the free plan: create, edit and delete through the pages; cursor pages with Next and Previous;
 * the free plan's project limit and the plan-gated export explained with a way to billing; CSRF;
 * no JavaScript; keyboard only; axe.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, screenshot, seriousViolations } from "./browser";
import { eventually } from "./platform";
import { type FreshTenant, freshTenant, ownerPage, signIn } from "./tenant-session";

let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

/**
 * Creates through the API, as setup. The free plan's budget is 10 requests a second, which a
 * test's loop outruns: a 429 (Retry-After: 1) is retried a second later, as a client should.
 */
async function created(tenant: FreshTenant, path: string, body: object): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const r = await tenant.api({ method: "POST", path, body });
    if (r.status === 429 && attempt < 3) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      continue;
    }
    expect(r.status).toBe(201);
    return (r.body as { id: string }).id;
  }
}

const apiProject = (tenant: FreshTenant, name: string) => created(tenant, "/v1/projects", { name });

async function projectNames(tenant: FreshTenant): Promise<string[]> {
  const r = await tenant.api({ path: "/v1/projects" });
  return (r.body as { data: { name: string }[] }).data.map((p) => p.name);
}

/** The token of the newest mail to `to` whose link opens `page` (`verify-email`, `accept-invitation`). */
async function mailedToken(tenant: FreshTenant, to: string, page: string): Promise<string> {
  return eventually(async () => {
    const r = await tenant.api({ path: `/_dev/outbox?format=json&to=${encodeURIComponent(to)}` });
    const mails = (r.body as { data: { text: string }[] }).data;
    const link = mails
      .map((m) => m.text.match(new RegExp(`/${page}\\?token=([^\\s]+)`)))
      .find(Boolean);
    return link ? decodeURIComponent(link[1] ?? "") : null;
  });
}

/** A viewer in the tenant, invited by the (verified) owner and joined through the API. */
async function viewer(tenant: FreshTenant) {
  const verify = await mailedToken(tenant, tenant.email, "verify-email");
  await tenant.api({ method: "POST", path: "/v1/auth/verify-email", body: { token: verify } });
  const email = `viewer@${tenant.slug}.example`;
  const password = `${tenant.slug}-viewer-password`;
  await created(tenant, "/v1/invitations", { email, role: "viewer" });
  const token = await mailedToken(tenant, email, "accept-invitation");
  const joined = await tenant.api({
    method: "POST",
    path: "/v1/invitations/accept",
    body: { token, password },
  });
  expect(joined.status).toBe(201);
  return { url: tenant.url, email, password };
}

/** Fills the create form on /projects and submits it; resolves on the new project's page. */
async function createThroughForm(page: Page, tenant: FreshTenant, name: string): Promise<void> {
  await page.goto(`${tenant.url}/projects`);
  await page.getByLabel("Name").fill(name);
  await page.getByRole("button", { name: "Create project" }).click();
  await page.waitForURL(/\/projects\/prj_/);
  await page.getByRole("heading", { level: 1, name }).waitFor();
}

describe("the example product in the tenant app", () => {
  it("creates, renames and deletes a project, and adds, edits and deletes its tasks", async () => {
    const tenant = await freshTenant("prj");
    const { context, page } = await ownerPage(browser, tenant);
    await createThroughForm(page, tenant, "Apollo");
    await page.getByText("Example product", { exact: true }).waitFor();

    await page.getByLabel("New task").fill("Write the plan");
    await page.getByRole("button", { name: "Add task" }).click();
    const task = page
      .locator("li[data-task]")
      .filter({ has: page.locator('[value="Write the plan"]') });
    await task.waitFor();
    await task.getByLabel("Title").fill("Write the launch plan");
    await task.getByLabel("Status").selectOption("doing");
    await task.getByRole("button", { name: "Save" }).click();
    await expect
      .poll(async () => {
        const r = await tenant.api({ path: `/v1/projects/${page.url().split("/").pop()}/tasks` });
        return (r.body as { data: { title: string; status: string }[] }).data;
      })
      .toMatchObject([{ title: "Write the launch plan", status: "doing" }]);

    // The export the free plan lacks: what unlocks it and a way to billing, not the link.
    const gate = page.locator(".plan-gate");
    await expect.poll(() => gate.textContent()).toContain("Business and Enterprise plans");
    expect(await gate.getByRole("link", { name: "See plans" }).getAttribute("href")).toBe(
      "/billing",
    );
    expect(await page.getByRole("link", { name: "Export tasks (CSV)" }).count()).toBe(0);

    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, "tenant-project");

    await page.getByRole("button", { name: "Delete task Write the launch plan" }).click();
    await page.getByText("No tasks yet.").waitFor();

    await page.getByLabel("Name").fill("Apollo 11");
    await page.getByRole("button", { name: "Save project" }).click();
    await page.getByRole("heading", { level: 1, name: "Apollo 11" }).waitFor();

    await page.getByRole("link", { name: "Delete project…" }).click();
    await page.getByRole("button", { name: "Yes, delete project" }).click();
    await page.waitForURL(`${tenant.url}/projects`);
    await page.getByText("No projects yet.").waitFor();
    expect(await projectNames(tenant)).toEqual([]);
    await context.close();
  });

  it("shows a viewer the projects and tasks without create, edit or delete controls", async () => {
    const tenant = await freshTenant("prj");
    const project = await apiProject(tenant, "Read me");
    await created(tenant, `/v1/projects/${project}/tasks`, { title: "Look only" });
    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, await viewer(tenant));
    await page.goto(`${tenant.url}/projects`);
    await page.getByText("can view projects but not create or change them").waitFor();
    expect(await page.getByRole("button", { name: "Create project" }).count()).toBe(0);
    await page.getByRole("link", { name: "Read me" }).click();
    await page.getByText("Look only").waitFor();
    await page.getByText("can view this project but not change it").waitFor();
    expect(await page.getByRole("button").filter({ hasNotText: "Sign out" }).count()).toBe(0);
    expect(await page.getByRole("link", { name: "Delete project…" }).count()).toBe(0);
    await context.close();
  });

  it("pages projects and tasks through the API's cursor with Next and Previous", async () => {
    const tenant = await freshTenant("prj");
    const project = await apiProject(tenant, "One");
    for (const name of ["Two", "Three"]) await apiProject(tenant, name);
    const { context, page } = await ownerPage(browser, tenant);
    const rows = page.locator("tbody tr");
    await page.goto(`${tenant.url}/projects?limit=2`);
    expect(await rows.allTextContents()).toEqual([
      expect.stringContaining("Three"),
      expect.stringContaining("Two"),
    ]);
    await page.getByRole("link", { name: "Next" }).click();
    await expect.poll(() => rows.allTextContents()).toEqual([expect.stringContaining("One")]);
    expect(await page.getByRole("link", { name: "Next" }).count()).toBe(0);
    await page.getByRole("link", { name: "Previous" }).click();
    await expect.poll(() => rows.count()).toBe(2);
    expect(await page.getByRole("link", { name: "Previous" }).count()).toBe(0);

    for (const title of ["Task 1", "Task 2", "Task 3"]) {
      await created(tenant, `/v1/projects/${project}/tasks`, { title });
    }
    const tasks = page.locator("li[data-task]");
    await page.goto(`${tenant.url}/projects/${project}?limit=2`);
    expect(await tasks.count()).toBe(2);
    await page.getByRole("link", { name: "Next" }).click();
    await expect.poll(() => tasks.count()).toBe(1);
    await page.getByRole("link", { name: "Previous" }).click();
    await expect.poll(() => tasks.count()).toBe(2);
    await context.close();
  });

  it("explains the free plan's project limit on the fourth project and links to billing", async () => {
    const tenant = await freshTenant("prj");
    for (const name of ["One", "Two", "Three"]) await apiProject(tenant, name);
    const { context, page } = await ownerPage(browser, tenant);
    await page.goto(`${tenant.url}/projects`);
    await page.getByLabel("Name").fill("Four");
    await page.getByRole("button", { name: "Create project" }).click();
    const alert = page.getByRole("alert");
    await expect
      .poll(() => alert.textContent())
      .toMatch(/limit is reached.*\(request req_|\(request req_.*limit is reached/s);
    expect(await alert.getByRole("link", { name: "See plans" }).getAttribute("href")).toBe(
      "/billing",
    );
    expect(await page.getByLabel("Name").inputValue()).toBe("Four");
    expect(await projectNames(tenant)).toHaveLength(3);
    await context.close();
  });

  it("refuses a create form posted without the CSRF field and creates nothing", async () => {
    const tenant = await freshTenant("prj");
    const { context, page } = await ownerPage(browser, tenant);
    await page.goto(`${tenant.url}/projects`);
    // From the page itself, so the session cookie goes along (Node cannot resolve *.localhost).
    const forged = await page.evaluate(async () => {
      const body = new URLSearchParams({ name: "Forged" });
      return (await fetch("/projects", { method: "POST", body })).status;
    });
    expect(forged).toBe(403);
    expect(await projectNames(tenant)).toEqual([]);
    await context.close();
  });

  it("creates a project with JavaScript disabled", async () => {
    const tenant = await freshTenant("prj");
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await signIn(page, tenant);
    await createThroughForm(page, tenant, "No script");
    expect(await projectNames(tenant)).toEqual(["No script"]);
    await context.close();
  });

  it("fills and submits the create form with the keyboard only", async () => {
    const tenant = await freshTenant("prj");
    const { context, page } = await ownerPage(browser, tenant);
    await page.goto(`${tenant.url}/projects`);
    const focused = () => page.locator(":focus").getAttribute("name");
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press("Tab");
      if ((await focused()) === "name") break;
    }
    expect(await focused()).toBe("name");
    await page.keyboard.type("Typed");
    await page.keyboard.press("Tab");
    await page.keyboard.type("All by keyboard");
    await page.keyboard.press("Tab");
    await page.keyboard.press("Enter");
    await page.waitForURL(/\/projects\/prj_/);
    await page.getByRole("heading", { level: 1, name: "Typed" }).waitFor();
    await page.getByText("All by keyboard").first().waitFor();

    await page.goto(`${tenant.url}/projects`);
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, "tenant-projects");
    await context.close();
  });
});
