// npm run stripe:sync [-- --dry-run]: creates or updates the billing meters, products and prices
// of the plan catalog (packages/plans) in Stripe or in the emulator, and prints what it did.
// Idempotent: a second run reports everything unchanged.
//
//   STRIPE_SECRET_KEY  required; any sk_test_… key for the emulator
//   STRIPE_API_BASE    optional API origin, e.g. http://localhost:12111 (`npm run stripe:emulator`);
//                      absent: api.stripe.com
import { formatSyncReport, StripeSyncError, syncCatalogToStripe } from "@tenantry/plans";
import Stripe from "stripe";

function fail(message: string): never {
  console.error(`stripe:sync: ${message}`);
  process.exit(1);
}

/** The SDK takes host, port and protocol separately; the environment names one origin. */
function apiBase(value: string): { host: string; port: number; protocol: "http" | "https" } {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    fail(`STRIPE_API_BASE is not a URL: ${value}`);
  }
  const protocol = url.protocol.slice(0, -1);
  if (protocol !== "http" && protocol !== "https") {
    fail(`STRIPE_API_BASE must be http:// or https://, got ${value}`);
  }
  if (url.pathname !== "/" || url.search) {
    fail(`STRIPE_API_BASE is an origin without a path (the SDK adds /v1/…), got ${value}`);
  }
  const port = url.port ? Number(url.port) : protocol === "https" ? 443 : 80;
  return { host: url.hostname, port, protocol };
}

const dryRun = process.argv.includes("--dry-run");
const key = process.env.STRIPE_SECRET_KEY;
if (!key) {
  fail(
    "STRIPE_SECRET_KEY is not set. Use any sk_test_… key against the emulator " +
      "(STRIPE_API_BASE=http://localhost:12111), or the account's secret key for Stripe.",
  );
}
const base = process.env.STRIPE_API_BASE;
const stripe = new Stripe(key, {
  ...(base ? apiBase(base) : {}),
  // Retries carry an idempotency key, so a flaky network cannot create a price twice.
  maxNetworkRetries: 2,
});

const target = base ?? "https://api.stripe.com";
const mode = key.startsWith("sk_live_") || key.startsWith("rk_live_") ? "LIVE" : "test";
console.log(`Syncing the plan catalog to ${target} (${mode} mode)${dryRun ? ", dry run" : ""}`);
try {
  console.log(formatSyncReport(await syncCatalogToStripe(stripe, undefined, { dryRun })));
} catch (error) {
  if (error instanceof StripeSyncError) fail(error.message);
  if (error instanceof Stripe.errors.StripeError) {
    fail(`Stripe answered ${error.statusCode ?? "?"} ${error.type}: ${error.message}`);
  }
  throw error;
}
