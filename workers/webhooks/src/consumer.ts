import {
  type BillingTenant,
  readBilling,
  recordBillingChange,
  syncTenantBilling,
} from "@tenantry/core";
import type { BillingMessage, Env } from "./env";

export interface ConsumerDeps {
  /** The re-sync; tests wrap it to crash at chosen points. */
  sync: typeof syncTenantBilling;
}

/** Backoff for a failed attempt: 5 s, 10 s, 20 s, … capped at 5 minutes. */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(300, 5 * 2 ** Math.max(0, attempts - 1));
}

/**
 * A sync counts as covering a message only if its fetch began this long after the message
 * arrived: the intake and the consumer run on different machines, whose clocks may differ a
 * little. Within the margin the consumer re-fetches, which is always safe.
 */
export const COALESCE_MARGIN_MS = 1000;

export type CustomerOutcome = "synced" | "coalesced" | "unknown_customer" | "failed";

/**
 * The BILLING queue consumer. Events are only hints: messages are grouped by customer, and each
 * customer is re-synced from Stripe at most once per batch, and not at all when a sync that
 * started well after the newest message arrived has already been applied. Failures are recorded in
 * the ledger and retried with backoff; after the last retry the queue moves the message to the
 * dead-letter queue (see `deadLetter`).
 */
export async function consumeBillingBatch(
  env: Env,
  batch: MessageBatch<BillingMessage>,
  deps: ConsumerDeps = { sync: syncTenantBilling },
): Promise<Map<string, CustomerOutcome>> {
  const byCustomer = new Map<string, Message<BillingMessage>[]>();
  for (const message of batch.messages) {
    const group = byCustomer.get(message.body.customer_id) ?? [];
    group.push(message);
    byCustomer.set(message.body.customer_id, group);
  }
  const outcomes = new Map<string, CustomerOutcome>();
  await Promise.all(
    [...byCustomer].map(async ([customer, messages]) => {
      const ids = messages.map((m) => m.body.event_id);
      try {
        const outcome = await reconcileCustomer(env, customer, messages, deps);
        outcomes.set(customer, outcome);
        for (const m of messages) m.ack();
      } catch (err) {
        outcomes.set(customer, "failed");
        const error = err instanceof Error ? err.message : String(err);
        console.error(
          JSON.stringify({
            level: "warn",
            msg: "billing re-sync failed; retrying",
            customer_id: customer,
            tenant_id: messages[0]?.body.tenant_id ?? null,
            event_ids: ids,
            error,
          }),
        );
        await markEvents(env, ids, "UPDATE stripe_events SET attempts = attempts + 1, error = ?", [
          error,
        ]).catch(() => {});
        for (const m of messages) m.retry({ delaySeconds: retryDelaySeconds(m.attempts) });
      }
    }),
  );
  return outcomes;
}

async function reconcileCustomer(
  env: Env,
  customer: string,
  messages: Message<BillingMessage>[],
  deps: ConsumerDeps,
): Promise<CustomerOutcome> {
  const ids = messages.map((m) => m.body.event_id);
  const now = Date.now();
  const tenant = await env.CONTROL_DB.prepare(
    `SELECT id, plan, database_binding AS databaseBinding, stripe_customer_id AS stripeCustomerId
     FROM tenants WHERE stripe_customer_id = ?`,
  )
    .bind(customer)
    .first<BillingTenant>();
  if (!tenant) {
    await markEvents(
      env,
      ids,
      "UPDATE stripe_events SET state = 'ignored', attempts = attempts + 1, processed_at = ?, error = ?",
      [now, `no tenant has Stripe customer ${customer}`],
    );
    return "unknown_customer";
  }
  const newest = Math.max(...messages.map((m) => m.body.received_at));
  const stored = await readBilling(env, tenant.id);
  let outcome: CustomerOutcome;
  if (stored && stored.synced_at > newest + COALESCE_MARGIN_MS) {
    // A fetch that began after these events arrived is already applied; only make sure its
    // change was recorded (a crash may have come between the two).
    await recordBillingChange(env, tenant, stored, { requestId: ids[0] ?? "", ip: null });
    outcome = "coalesced";
  } else {
    await deps.sync(env, tenant, { requestId: ids[0] ?? "", ip: null });
    outcome = "synced";
  }
  await markEvents(
    env,
    ids,
    "UPDATE stripe_events SET state = 'processed', tenant_id = ?, attempts = attempts + 1, processed_at = ?, error = NULL",
    [tenant.id, now],
  );
  return outcome;
}

/**
 * Runs `UPDATE … SET …` for a set of event ids (`WHERE [extra AND] id IN (…)` is appended), in
 * chunks that stay under D1's 100 bound parameters per statement.
 */
async function markEvents(
  env: Env,
  ids: string[],
  update: string,
  params: unknown[],
  extra = "",
): Promise<void> {
  const statements: D1PreparedStatement[] = [];
  for (let i = 0; i < ids.length; i += 80) {
    const chunk = ids.slice(i, i + 80);
    const placeholders = chunk.map(() => "?").join(", ");
    statements.push(
      env.CONTROL_DB.prepare(
        `${update} WHERE ${extra ? `${extra} AND ` : ""}id IN (${placeholders})`,
      ).bind(...params, ...chunk),
    );
  }
  if (statements.length > 0) await env.CONTROL_DB.batch(statements);
}

/**
 * The dead-letter queue's consumer: the messages exhausted their retries. The ledger row keeps
 * the last error and becomes `failed`; the sweep re-syncs those customers' tenants later.
 */
export async function deadLetter(env: Env, batch: MessageBatch<BillingMessage>): Promise<void> {
  const ids = batch.messages.map((m) => m.body.event_id);
  await markEvents(
    env,
    ids,
    "UPDATE stripe_events SET state = 'failed', error = COALESCE(error, 'retries exhausted')",
    [],
    "state = 'queued'",
  );
  for (const m of batch.messages) {
    console.error(
      JSON.stringify({
        level: "error",
        msg: "billing event dead-lettered",
        event_id: m.body.event_id,
        customer_id: m.body.customer_id,
        tenant_id: m.body.tenant_id,
      }),
    );
    m.ack();
  }
}
