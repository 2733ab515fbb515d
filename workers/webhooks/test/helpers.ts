import { applyD1Migrations } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { type BillingTenant, controlDb, coreConfig, stripeClient } from "@tenantry/core";
import { newId } from "@tenantry/schema";
import { subscriptions, tenants } from "@tenantry/schema/control";
import { eq } from "drizzle-orm";
import type Stripe from "stripe";
import { signPayload } from "../../../packages/stripe-emulator/src/webhooks";
import type { Env } from "../src/env";

export const wenv = env as unknown as Env;
export const stripe = (): Stripe => stripeClient(coreConfig(wenv))!;

/** Calls the emulator's control API (test clocks aside, what a test needs to steer Stripe). */
export async function emulatorControl(path: string, body: unknown = {}): Promise<any> {
  const res = await fetch(`https://api.stripe.com/_emulator${path}`, {
    method: "POST",
    headers: { authorization: "Bearer sk_test_tenantry", "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`emulator ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

let nextDatabase = 0;

export interface TestTenant extends BillingTenant {
  stripeCustomerId: string;
  clock: string;
}

/**
 * A tenant as provisioning leaves it: a registry row, a migrated database from the pool, and a
 * Stripe customer on its own test clock (so time moves for this tenant alone).
 */
export async function createTenant(frozenTime = Date.UTC(2026, 4, 1) / 1000): Promise<TestTenant> {
  nextDatabase++;
  const binding = `TENANT_DB_${String(nextDatabase).padStart(4, "0")}`;
  await applyD1Migrations(
    (wenv as unknown as Record<string, D1Database>)[binding]!,
    env.TEST_TENANT_MIGRATIONS,
  );
  const id = newId("tenant");
  const clock = await stripe().testHelpers.testClocks.create({ frozen_time: frozenTime });
  const customer = await stripe().customers.create({
    email: `owner-${id}@example.test`,
    test_clock: clock.id,
    payment_method: "pm_card_visa",
    metadata: { tenant_id: id },
  });
  await wenv.CONTROL_DB.prepare(
    `INSERT INTO tenants (id, slug, name, status, plan, database_binding, schema_version, owner_user_id,
       stripe_customer_id, created_at, updated_at)
     VALUES (?1, ?2, ?2, 'active', 'free', ?3, 1, 'usr_test', ?4, ?5, ?5)`,
  )
    .bind(id, `t${nextDatabase}`, binding, customer.id, Date.now())
    .run();
  return {
    id,
    plan: "free",
    databaseBinding: binding,
    stripeCustomerId: customer.id,
    clock: clock.id,
  };
}

/** Gives a test tenant a fresh Stripe customer (and clock), forgetting its billing state. */
export async function newCustomer(
  tenant: TestTenant,
  frozenTime = Date.UTC(2026, 4, 1) / 1000,
): Promise<TestTenant> {
  const clock = await stripe().testHelpers.testClocks.create({ frozen_time: frozenTime });
  const customer = await stripe().customers.create({
    test_clock: clock.id,
    payment_method: "pm_card_visa",
    metadata: { tenant_id: tenant.id },
  });
  await wenv.CONTROL_DB.batch([
    wenv.CONTROL_DB.prepare(
      "UPDATE tenants SET stripe_customer_id = ?, plan = 'free' WHERE id = ?",
    ).bind(customer.id, tenant.id),
    wenv.CONTROL_DB.prepare("DELETE FROM subscriptions WHERE tenant_id = ?").bind(tenant.id),
  ]);
  return { ...tenant, plan: "free", stripeCustomerId: customer.id, clock: clock.id };
}

/** Subscribes through Checkout, completed as the hosted page's Pay button would. */
export async function checkout(tenant: TestTenant, lookupKey = "pro_month") {
  const prices = await stripe().prices.list({ lookup_keys: [lookupKey] });
  const session = await stripe().checkout.sessions.create({
    mode: "subscription",
    customer: tenant.stripeCustomerId,
    line_items: [{ price: prices.data[0]!.id, quantity: 1 }],
    success_url:
      "http://t.localhost:8787/v1/billing/checkout/complete?session_id={CHECKOUT_SESSION_ID}",
    cancel_url: "http://t.localhost:8787/billing",
  });
  await emulatorControl(`/checkout/sessions/${session.id}/complete`);
  const subs = await stripe().subscriptions.list({ customer: tenant.stripeCustomerId });
  return subs.data[0]!;
}

export async function priceId(lookupKey: string): Promise<string> {
  return (await stripe().prices.list({ lookup_keys: [lookupKey] })).data[0]!.id;
}

/** Signs an event body as Stripe signs it (`t=…,v1=…`). */
export async function sign(
  body: string,
  { secret = wenv.STRIPE_WEBHOOK_SECRET, timestamp = Math.floor(Date.now() / 1000) } = {},
) {
  return signPayload(secret, body, timestamp);
}

/** Calls the worker through its real fetch handler. */
export async function request(method: string, path: string, init: RequestInit = {}) {
  const res = await exports.default.fetch(`http://localhost:8788${path}`, { ...init, method });
  const text = await res.text();
  let body: any = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {}
  return { status: res.status, headers: res.headers, body };
}

/** POSTs to the intake as Stripe would. */
export function deliver(body: string, signature?: string) {
  return request("POST", "/stripe/webhook", {
    headers: {
      "content-type": "application/json",
      ...(signature === undefined ? {} : { "stripe-signature": signature }),
    },
    body,
  });
}

export async function ledgerRow(eventId: string) {
  return wenv.CONTROL_DB.prepare("SELECT * FROM stripe_events WHERE id = ?")
    .bind(eventId)
    .first<Record<string, any>>();
}

/** The stored billing state, and the plan the registry row says. */
export async function billingRow(tenantId: string) {
  const found = await controlDb(wenv)
    .select({ billing: subscriptions, tenantPlan: tenants.plan })
    .from(subscriptions)
    .innerJoin(tenants, eq(tenants.id, subscriptions.tenantId))
    .where(eq(subscriptions.tenantId, tenantId))
    .get();
  return found ? { ...found.billing, tenantPlan: found.tenantPlan } : null;
}

/** The tenant's billing audit entries, oldest first. */
export async function billingAudit(tenant: BillingTenant) {
  const db = (wenv as unknown as Record<string, D1Database>)[tenant.databaseBinding!]!;
  const rows = await db
    .prepare("SELECT * FROM audit_log WHERE action = 'billing.update' ORDER BY id")
    .all<Record<string, any>>();
  return rows.results.map(
    (r): Record<string, any> => ({
      ...r,
      before: JSON.parse(r.before),
      after: JSON.parse(r.after),
    }),
  );
}

/** Polls until `check` returns a truthy value (queue consumers run in the background). */
export async function eventually<T>(
  check: () => Promise<T | null | undefined | false>,
  ms = 20_000,
) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A Stripe-shaped event around an object, for intake tests. */
export function fakeEvent(object: Record<string, unknown>, type = "customer.subscription.updated") {
  return {
    id: `evt_test_${crypto.randomUUID().replace(/-/g, "")}`,
    object: "event",
    api_version: "2026-10-28.clover",
    created: Math.floor(Date.now() / 1000),
    type,
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    data: { object },
  };
}
