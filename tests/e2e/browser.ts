/**
 * Browser tests drive Debian's Chromium (`apt-get install chromium`, done by .ci/run) through
 * playwright-core; no browser is ever downloaded. Chromium resolves `*.localhost` to loopback,
 * so pages are opened on the same hosts as in development.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { resolve } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { DEMO_OPERATOR, demoOperatorCode } from "../../scripts/lib/demo-operator.mjs";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
/**
 * Where the browser tests leave their screenshots: the READMEs' own (docs/screenshots) when
 * `UPDATE_SCREENSHOTS=1` (`npm run screenshots`), else a scratch folder, so a test run leaves the
 * tree clean (every run has new slugs and times).
 */
export const SCREENSHOTS = resolve(
  process.env.UPDATE_SCREENSHOTS === "1" ? "docs/screenshots" : "tests/e2e/.tmp/screenshots",
);

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: `${SCREENSHOTS}/${name}.png`, fullPage: true });
}

/**
 * Signs the demo operator (seeded by platform.ts) in through the sign-in page of `adminUrl`.
 * A TOTP code is accepted once, so a refused code is retried once in the next 30 s step.
 */
export async function signInOperator(page: Page, adminUrl: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    await page.goto(`${adminUrl}/sign-in`);
    await page.locator("#email").fill(DEMO_OPERATOR.email);
    await page.locator("#password").fill(DEMO_OPERATOR.password);
    await page.locator("#code").fill(demoOperatorCode());
    await page.getByRole("button", { name: "Sign in" }).click();
    const signedIn = page.getByRole("button", { name: "Sign out" });
    const refused = page.locator("main .error");
    await signedIn.or(refused).first().waitFor();
    if (await signedIn.isVisible()) return;
    if (attempt > 0) throw new Error(`sign-in refused: ${await refused.textContent()}`);
    await new Promise((r) => setTimeout(r, 30_000 - (Date.now() % 30_000) + 500));
  }
}

const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

type AxeRule = {
  id: string;
  impact: string | null;
  nodes: { target: unknown[]; any: { data: { messageKey?: string } | null }[] }[];
};

/**
 * axe-core's serious and critical violations on the page, as `rule: selectors`, and text the
 * colour of its background (axe leaves a 1:1 contrast "incomplete": it might be meant hidden).
 */
export async function seriousViolations(page: Page): Promise<string[]> {
  // Evaluated over the DevTools protocol, which the page's strict CSP does not govern (a
  // <script> tag would be refused for lacking the nonce).
  await page.evaluate(AXE);
  const { violations, incomplete } = await page.evaluate(async () => {
    type Run = (options: unknown) => Promise<{ violations: AxeRule[]; incomplete: AxeRule[] }>;
    return (globalThis as unknown as { axe: { run: Run } }).axe.run({});
  });
  const invisible = incomplete
    .filter((rule) => rule.id === "color-contrast")
    .map((rule) => ({
      ...rule,
      nodes: rule.nodes.filter((n) => n.any.some((c) => c.data?.messageKey === "equalRatio")),
    }));
  return [...violations, ...invisible]
    .filter((rule) => rule.nodes.length > 0)
    .filter((rule) => rule.impact === "serious" || rule.impact === "critical")
    .map((rule) => `${rule.id}: ${rule.nodes.map((n) => JSON.stringify(n.target)).join(" ")}`);
}
