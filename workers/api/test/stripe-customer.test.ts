/** Provisioning links a Stripe customer; Stripe being down never blocks a sign-up. */
import { env } from "cloudflare:workers";
import { stripeClient } from "@tenantry/core";
import { describe, expect, it } from "vitest";
import { config } from "../src/env";
import { linkMissingStripeCustomers } from "../src/services/billing-customer";
import { signUp } from "../src/services/signup";
import { api, PASSWORD, uniqueSlug } from "./helpers";

const input = () => {
  const slug = uniqueSlug("b");
  return {
    organization_name: "Billing Co",
    slug,
    email: `pay@${slug}.example`,
    password: PASSWORD,
  };
};

async function customerIdOf(slug: string) {
  const row = await env.CONTROL_DB.prepare(
    "SELECT id, stripe_customer_id FROM tenants WHERE slug = ?",
  )
    .bind(slug)
    .first<{ id: string; stripe_customer_id: string | null }>();
  return row!;
}

describe("the tenant's Stripe customer", () => {
  it("is created at sign-up with the tenant id in its metadata, and linked in the registry", async () => {
    const body = input();
    expect((await api("POST", "/v1/signup", { body })).status).toBe(201);
    // Linked after the response (waitUntil): poll briefly.
    let row = await customerIdOf(body.slug);
    for (let i = 0; i < 50 && !row.stripe_customer_id; i++) {
      await new Promise((r) => setTimeout(r, 20));
      row = await customerIdOf(body.slug);
    }
    expect(row.stripe_customer_id).toMatch(/^cus_/);
    const customer = await stripeClient(config(env))!.customers.retrieve(row.stripe_customer_id!);
    expect(customer).toMatchObject({
      email: body.email,
      metadata: { tenant_id: row.id, tenant_slug: body.slug },
    });
  });

  it("uses an idempotency key derived from the tenant id, so a retry finds the same customer", async () => {
    const body = input();
    await signUp({ ctx: { env, requestId: "test", ip: null }, input: body });
    const { id, stripe_customer_id } = await customerIdOf(body.slug);
    // What a retry after a lost response sends: the same request under the same key.
    const again = await stripeClient(config(env))!.customers.create(
      {
        name: body.organization_name,
        email: body.email,
        metadata: { tenant_id: id, tenant_slug: body.slug },
      },
      { idempotencyKey: `tenant-customer:${id}` },
    );
    expect(again.id).toBe(stripe_customer_id);
    const all = await stripeClient(config(env))!.customers.list({ email: body.email });
    expect(all.data).toHaveLength(1);
  });

  it("when Stripe is down the tenant is still active on free, and the sweep links it later", async () => {
    const body = input();
    const down = { ...env, STRIPE_API_BASE: "https://stripe-down.invalid" };
    const result = await signUp({ ctx: { env: down, requestId: "test", ip: null }, input: body });
    if (result.status !== "created") throw new Error("expected a new tenant");
    expect(result.tenant.slug).toBe(body.slug);
    const row = await env.CONTROL_DB.prepare(
      "SELECT status, plan, stripe_customer_id FROM tenants WHERE slug = ?",
    )
      .bind(body.slug)
      .first();
    expect(row).toEqual({ status: "active", plan: "free", stripe_customer_id: null });
    expect(
      (await api("GET", "/v1/me", { slug: body.slug, token: result.tokens.access_token })).status,
    ).toBe(200);

    expect((await linkMissingStripeCustomers(down)).linked).toBe(0);
    const swept = await linkMissingStripeCustomers(env);
    expect(swept.linked).toBeGreaterThanOrEqual(1);
    expect((await customerIdOf(body.slug)).stripe_customer_id).toMatch(/^cus_/);
  });
});
