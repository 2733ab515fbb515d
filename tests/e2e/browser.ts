/**
 * Browser tests drive Debian's Chromium (`apt-get install chromium`, done by .ci/run) through
 * playwright-core; no browser is ever downloaded. Chromium resolves `*.localhost` to loopback,
 * so pages are opened on the same hosts as in development.
 */
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
/** Screenshots the READMEs show, refreshed by every run. */
export const SCREENSHOTS = resolve("docs/screenshots");

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: `${SCREENSHOTS}/${name}.png`, fullPage: true });
}
