import {
  type BillingRow,
  type BillingTenant,
  controlDb,
  inChunks,
  log,
  parseMessages,
  recordBillingChange,
  retryDelaySeconds,
  syncTenantBilling,
} from "@tenantry/core";
import { stripeEvents, subscriptions, tenants } from "@tenantry/schema/control";
import { and, eq, inArray, type SQL, sql } from "drizzle-orm";
import type { SQLiteUpdateSetSource } from "drizzle-orm/sqlite-core";
import { type BillingMessage, BillingMessageSchema, type Env } from "./env";

export interface ConsumerDeps {
  /** The re-sync; tests wrap it to crash at chosen points. */
  sync: typeof syncTenantBilling;
}

/**
 * A sync counts as covering a message only if its fetch began this long after the message
 * arrived: the intake and the consumer run on different machines, whose clocks may differ a
 * little. Within the margin the consumer re-fetches, which is always safe.
 */
const COALESCE_MARGIN_MS = 1000;

export type CustomerOutcome = "synced" | "coalesced" | "unknown_customer" | "failed";

/**
 * The BILLING queue consumer. Events are only hints: messages are grouped by customer, and each
 * customer is re-synced from Stripe at most once per batch, and not at all when a sync that
 * started well after the newest message arrived has already been applied. The ledger is written
 * for the whole batch at once, before any message is acknowledged. Failures are recorded in the
 * ledger and retried with backoff; after the last retry the queue moves the message to the
 * dead-letter queue (see `deadLetter`). A message whose body does not parse is logged and
 * acknowledged.
 */
export async function consumeBillingBatch(
  env: Env,
  batch: MessageBatch<unknown>,
  deps: ConsumerDeps = { sync: syncTenantBilling },
): Promise<Map<string, CustomerOutcome>> {
  const messages = parseMessages(batch, BillingMessageSchema, "billing");
  const byCustomer = new Map<string, Message<BillingMessage>[]>();
  for (const message of messages) {
    const group = byCustomer.get(message.body.customer_id) ?? [];
    group.push(message);
    byCustomer.set(message.body.customer_id, group);
  }
  const known = await tenantsOf(env, [...byCustomer.keys()]);
  const now = Date.now();
  const outcomes = new Map<string, CustomerOutcome>();
  const db = controlDb(env);
  const ledger: EventUpdate[] = [];
  const attempted = sql`${stripeEvents.attempts} + 1`;
  const retries: Message<BillingMessage>[] = [];
  await Promise.all(
    [...byCustomer].map(async ([customer, messages]) => {
      const ids = messages.map((m) => m.body.event_id);
      const found = known.get(customer);
      if (!found) {
        outcomes.set(customer, "unknown_customer");
        ledger.push(
          ...markEvents(db, ids, {
            state: "ignored",
            attempts: attempted,
            processedAt: now,
            error: `no tenant has Stripe customer ${customer}`,
          }),
        );
        return;
      }
      try {
        outcomes.set(customer, await reconcile(env, found, messages, deps));
        ledger.push(
          ...markEvents(db, ids, {
            state: "processed",
            tenantId: found.tenant.id,
            attempts: attempted,
            processedAt: now,
            error: null,
          }),
        );
      } catch (err) {
        outcomes.set(customer, "failed");
        const error = err instanceof Error ? err.message : String(err);
        log.forTenant(found.tenant.id).warn("billing re-sync failed; retrying", {
          customer_id: customer,
          event_ids: ids,
          error,
        });
        ledger.push(...markEvents(db, ids, { attempts: attempted, error }));
        retries.push(...messages);
      }
    }),
  );
  // If this write fails the whole batch is retried: the re-syncs are done, so the retry finds
  // them applied and only writes the ledger.
  const [first, ...rest] = ledger;
  if (first) await db.batch([first, ...rest]);
  const retrying = new Set(retries);
  for (const m of messages) {
    if (retrying.has(m)) m.retry({ delaySeconds: retryDelaySeconds(m.attempts) });
    else m.ack();
  }
  return outcomes;
}

interface KnownCustomer {
  tenant: BillingTenant;
  billing: BillingRow | null;
}

/** The tenants (and stored billing) of a batch's customers, a query per 90 customers. */
async function tenantsOf(env: Env, customers: string[]): Promise<Map<string, KnownCustomer>> {
  const db = controlDb(env);
  const queries = [];
  for (const chunk of inChunks(customers)) {
    queries.push(
      db
        .select({
          id: tenants.id,
          plan: tenants.plan,
          databaseBinding: tenants.databaseBinding,
          stripeCustomerId: tenants.stripeCustomerId,
          billing: subscriptions,
        })
        .from(tenants)
        .leftJoin(subscriptions, eq(subscriptions.tenantId, tenants.id))
        .where(inArray(tenants.stripeCustomerId, chunk)),
    );
  }
  const known = new Map<string, KnownCustomer>();
  // Not db.batch: D1's batch answers rows as objects, and the joined tables share column names
  // (plan); drizzle reads single queries as arrays, by position.
  for (const rows of await Promise.all(queries)) {
    for (const { billing, ...tenant } of rows) {
      const customer = tenant.stripeCustomerId as string;
      known.set(customer, { tenant: { ...tenant, stripeCustomerId: customer }, billing });
    }
  }
  return known;
}

async function reconcile(
  env: Env,
  { tenant, billing }: KnownCustomer,
  messages: Message<BillingMessage>[],
  deps: ConsumerDeps,
): Promise<CustomerOutcome> {
  const ctx = { requestId: messages[0]?.body.event_id ?? "", ip: null };
  const newest = Math.max(...messages.map((m) => m.body.received_at));
  if (billing && billing.syncedAt > newest + COALESCE_MARGIN_MS) {
    // A fetch that began after these events arrived is already applied; only make sure its
    // change was recorded (a crash may have come between the two).
    await recordBillingChange(env, tenant, billing, ctx);
    return "coalesced";
  }
  await deps.sync(env, tenant, ctx);
  return "synced";
}

type EventUpdate = ReturnType<typeof markEvents>[number];

/** One update of many ledger rows, chunked under D1's bound-parameter limit. */
function markEvents(
  db: ReturnType<typeof controlDb>,
  ids: string[],
  set: SQLiteUpdateSetSource<typeof stripeEvents>,
  extra?: SQL,
) {
  return inChunks(ids).map((chunk) =>
    db
      .update(stripeEvents)
      .set(set)
      .where(and(extra, inArray(stripeEvents.id, chunk))),
  );
}

/**
 * The dead-letter queue's consumer: the messages exhausted their retries. The ledger row keeps
 * the last error and becomes `failed`; the sweep re-syncs those customers' tenants later.
 */
export async function deadLetter(env: Env, batch: MessageBatch<unknown>): Promise<void> {
  const messages = parseMessages(batch, BillingMessageSchema, "billing");
  const ids = messages.map((m) => m.body.event_id);
  const db = controlDb(env);
  const [first, ...rest] = markEvents(
    db,
    ids,
    { state: "failed", error: sql`COALESCE(${stripeEvents.error}, 'retries exhausted')` },
    eq(stripeEvents.state, "queued"),
  );
  if (first) await db.batch([first, ...rest]);
  for (const m of messages) {
    log.forTenant(m.body.tenant_id).error("billing event dead-lettered", {
      event_id: m.body.event_id,
      customer_id: m.body.customer_id,
    });
    m.ack();
  }
}
