import { log, stripeClient } from "@tenantry/core";
import { tenants, users } from "@tenantry/schema/control";
import { and, eq, isNull } from "drizzle-orm";
import { controlDb } from "../db/control-db";
import { config, type Env } from "../env";
import type { TenantRow } from "./registry";

/**
 * Creates the tenant's Stripe customer and links it in the registry. The idempotency key is
 * derived from the tenant id, so a retry after a lost response returns the same customer
 * (https://docs.stripe.com/api/idempotent_requests). Failure is not fatal: the tenant is already
 * active on `free`, and the scheduled sweep retries until the link exists.
 */
export async function linkStripeCustomer(
  env: Env,
  tenant: TenantRow,
  ownerEmail: string,
): Promise<string | null> {
  const stripe = stripeClient(config(env));
  if (!stripe || tenant.stripeCustomerId) return tenant.stripeCustomerId;
  try {
    const customer = await stripe.customers.create(
      {
        name: tenant.name,
        email: ownerEmail,
        metadata: { tenant_id: tenant.id, tenant_slug: tenant.slug },
      },
      { idempotencyKey: `tenant-customer:${tenant.id}` },
    );
    await controlDb(env)
      .update(tenants)
      .set({ stripeCustomerId: customer.id, updatedAt: Date.now() })
      .where(and(eq(tenants.id, tenant.id), isNull(tenants.stripeCustomerId)));
    return customer.id;
  } catch (err) {
    log.forTenant(tenant.id).warn("stripe customer link failed; the sweep retries", {
      error: String(err),
    });
    return null;
  }
}

/** Scheduled: links every active tenant that has no Stripe customer yet. */
export async function linkMissingStripeCustomers(
  env: Env,
): Promise<{ linked: number; failed: number }> {
  if (!stripeClient(config(env))) return { linked: 0, failed: 0 };
  const pending = await controlDb(env)
    .select({ tenant: tenants, ownerEmail: users.email })
    .from(tenants)
    .innerJoin(users, eq(users.id, tenants.ownerUserId))
    .where(and(eq(tenants.status, "active"), isNull(tenants.stripeCustomerId)))
    .orderBy(tenants.id)
    .limit(50);
  let linked = 0;
  for (const { tenant, ownerEmail } of pending) {
    if (await linkStripeCustomer(env, tenant, ownerEmail)) linked++;
  }
  return { linked, failed: pending.length - linked };
}
