import { log, stripeClient } from "@tenantry/core";
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
    await env.CONTROL_DB.prepare(
      "UPDATE tenants SET stripe_customer_id = ?, updated_at = ? WHERE id = ? AND stripe_customer_id IS NULL",
    )
      .bind(customer.id, Date.now(), tenant.id)
      .run();
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
  const pending = await env.CONTROL_DB.prepare(
    `SELECT t.*, u.email AS owner_email FROM tenants t JOIN users u ON u.id = t.owner_user_id
     WHERE t.status = 'active' AND t.stripe_customer_id IS NULL ORDER BY t.id LIMIT 50`,
  ).all<Record<string, unknown>>();
  let linked = 0;
  for (const row of pending.results) {
    const tenant = {
      id: row.id as string,
      slug: row.slug as string,
      name: row.name as string,
      stripeCustomerId: null,
    } as TenantRow;
    if (await linkStripeCustomer(env, tenant, row.owner_email as string)) linked++;
  }
  return { linked, failed: pending.results.length - linked };
}
