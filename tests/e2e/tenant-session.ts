/**
 * Tenant browser tests start from a fresh tenant each: signed up through the API (a new slug,
 * its own database from the pool) and signed in through the app's own sign-in page.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { call, ensureTenant } from "../../scripts/lib/platform.mjs";
import { API_PORT } from "./platform";

export interface FreshTenant {
  slug: string;
  /** The tenant host, e.g. `http://t-ab12cd.localhost:8827`. */
  url: string;
  email: string;
  password: string;
  /** The owner's access token, for calls the test makes around the browser. */
  token: string;
  /** The API as the tenant host serves it: `api({ path, method?, body?, token? })`. */
  api: (req: {
    path: string;
    method?: string;
    body?: unknown;
    token?: string;
  }) => ReturnType<typeof call>;
}

export async function freshTenant(prefix = "t"): Promise<FreshTenant> {
  const slug = `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
  const email = `owner@${slug}.example`;
  const password = `${slug}-password`;
  const token = await ensureTenant(API_PORT, { slug, name: `Org ${slug}`, email, password });
  return {
    slug,
    url: `http://${slug}.localhost:${API_PORT}`,
    email,
    password,
    token,
    api: (req) => politely(() => call(API_PORT, { slug, token, ...req })),
  };
}

/**
 * A test's own API calls are an API client's: the free plan allows 10 a second, so a call
 * refused by the per-second budget (429 rate_limited) is sent again after its Retry-After.
 */
async function politely(send: () => ReturnType<typeof call>): ReturnType<typeof call> {
  for (let attempt = 0; ; attempt++) {
    const res = await send();
    const limited = res.status === 429 && (res.body as { code?: string })?.code === "rate_limited";
    if (!limited || attempt === 5) return res;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** Signs `email` in through the tenant's sign-in page; resolves on the dashboard. */
export async function signIn(
  page: Page,
  tenant: Pick<FreshTenant, "url" | "email" | "password">,
): Promise<void> {
  await page.goto(`${tenant.url}/sign-in`);
  await page.getByLabel("Email").fill(tenant.email);
  await page.getByLabel("Password").fill(tenant.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${tenant.url}/`);
}

/** A new browser context signed in as the fresh tenant's owner. */
export async function ownerPage(
  browser: Browser,
  tenant: FreshTenant,
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, tenant);
  return { context, page };
}
