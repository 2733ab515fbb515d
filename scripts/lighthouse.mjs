#!/usr/bin/env node
/**
 * Lighthouse (performance and accessibility) on the tenant app's sign-in page and dashboard,
 * against `npm run dev` (start it first), in Debian's Chromium, offline. The dashboard is audited
 * signed in as the demo tenant's owner, with the session cookie the sign-in page sets.
 *
 *   npm run lighthouse            # scores; exits 1 when one is under 90
 *
 * Scores depend on the machine's load: this is a measurement to record (bench/README.md), not a
 * test.
 */
import * as chromeLauncher from "chrome-launcher";
import lighthouse from "lighthouse";
import { DEMO_TENANTS } from "./lib/demo-tenants.mjs";
import { tenantSignInCookie } from "./lib/platform.mjs";

const PORT = 8787;
const [tenant] = DEMO_TENANTS;
const HOST = `${tenant.slug}.localhost:${PORT}`;
const GOAL = 90;

const cookie = await tenantSignInCookie(PORT, tenant).catch((err) => {
  throw new Error(`${err.message}: is npm run dev running?`);
});
const chrome = await chromeLauncher.launch({
  chromePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  chromeFlags: ["--headless=new", "--no-sandbox", "--disable-gpu"],
});
let low = 0;
try {
  for (const [name, path, headers] of [
    ["sign-in", "/sign-in", {}],
    ["dashboard", "/", { Cookie: cookie }],
  ]) {
    const result = await lighthouse(`http://${HOST}${path}`, {
      port: chrome.port,
      onlyCategories: ["performance", "accessibility"],
      extraHeaders: headers,
      logLevel: "error",
    });
    const { performance, accessibility } = result.lhr.categories;
    const scores = [performance.score * 100, accessibility.score * 100];
    if (scores.some((s) => s < GOAL)) low++;
    console.log(
      `${name.padEnd(10)} performance ${scores[0].toFixed(0)}  accessibility ${scores[1].toFixed(0)}  (${result.lhr.finalDisplayedUrl})`,
    );
  }
} finally {
  await chrome.kill();
}
if (low) {
  console.error(`under ${GOAL} on ${low} page(s)`);
  process.exit(1);
}
