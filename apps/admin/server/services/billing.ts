import {
  type BillingMessage,
  controlDb,
  ProblemError,
  reconcileUsage,
  type UsageReconcile,
} from "@tenantry/core";
import { newId } from "@tenantry/schema";
import { STRIPE_EVENT_STATES, stripeEvents, tenants } from "@tenantry/schema/control";
import { and, desc, eq, isNotNull, lt, or, type SQL, sql } from "drizzle-orm";
import { operatorAuditEntry, operatorAuditEntryWhere } from "../audit";
import type { OperatorContext } from "../context";

/** Ledger filters: a state, or `retrying` (still queued after a failed attempt). */
export const LEDGER_FILTERS = [...STRIPE_EVENT_STATES, "retrying"] as const;
export type LedgerFilter = (typeof LEDGER_FILTERS)[number];

export interface LedgerQuery {
  tenantId?: string;
  filter?: LedgerFilter;
  /** `next_cursor` of the previous page. */
  cursor?: string;
  limit?: number;
}

export type LedgerEvent = typeof stripeEvents.$inferSelect;

export interface LedgerPage {
  data: LedgerEvent[];
  next_cursor: string | null;
}

const notFound = (what: string) =>
  new ProblemError(404, "not_found", "Not found", `No such ${what}.`);

/** The cursor is the last row's `received_at:id`: pages stay exact while events arrive. */
function afterCursor(cursor: string | undefined): SQL | undefined {
  if (!cursor) return undefined;
  const [at, ...rest] = cursor.split(":");
  const id = rest.join(":");
  const receivedAt = Number(at);
  if (!id || !Number.isSafeInteger(receivedAt)) {
    throw new ProblemError(400, "invalid_request", "Invalid request", "The cursor is malformed.");
  }
  return or(
    lt(stripeEvents.receivedAt, receivedAt),
    and(eq(stripeEvents.receivedAt, receivedAt), lt(stripeEvents.id, id)),
  );
}

function filterBy(filter: LedgerFilter | undefined): SQL | undefined {
  if (!filter) return undefined;
  if (filter === "retrying") {
    return and(eq(stripeEvents.state, "queued"), isNotNull(stripeEvents.error));
  }
  return eq(stripeEvents.state, filter);
}

/**
 * The Stripe event ledger, newest first, platform-wide or for one tenant: what arrived, how it
 * ended, and the last error of failed (dead-lettered) and retrying events.
 */
export async function listStripeEvents({
  ctx,
  input,
}: {
  ctx: OperatorContext;
  input: LedgerQuery;
}): Promise<LedgerPage> {
  const limit = Math.min(Math.max(input.limit ?? 50, 1), 200);
  const rows = await controlDb(ctx.env)
    .select()
    .from(stripeEvents)
    .where(
      and(
        input.tenantId ? eq(stripeEvents.tenantId, input.tenantId) : undefined,
        filterBy(input.filter),
        afterCursor(input.cursor),
      ),
    )
    .orderBy(desc(stripeEvents.receivedAt), desc(stripeEvents.id))
    .limit(limit + 1);
  const data = rows.slice(0, limit);
  const last = data.at(-1);
  return {
    data,
    next_cursor: rows.length > limit && last ? `${last.receivedAt}:${last.id}` : null,
  };
}

function hint(row: Pick<LedgerEvent, "id" | "type" | "tenantId">, customer: string, now: number) {
  return {
    event_id: row.id,
    event_type: row.type,
    customer_id: customer,
    tenant_id: row.tenantId,
    received_at: now,
  } satisfies BillingMessage;
}

/**
 * Re-syncs a tenant's billing from Stripe, through the BILLING queue like any webhook: the
 * webhooks worker's consumer does it (retries, dead letters), so this worker never calls Stripe
 * in a request. The re-sync is recorded in the event ledger (source `operator`) beside its audit
 * entry; if the send is lost, the billing sweep re-enqueues the queued row.
 */
export async function resyncTenantBilling({
  ctx,
  input,
}: {
  ctx: OperatorContext;
  input: { tenantId: string; reason: string };
}): Promise<LedgerEvent> {
  const db = controlDb(ctx.env);
  const tenant = await db
    .select({ id: tenants.id, customer: tenants.stripeCustomerId })
    .from(tenants)
    .where(eq(tenants.id, input.tenantId))
    .get();
  if (!tenant) throw notFound("tenant");
  if (!tenant.customer) {
    throw new ProblemError(
      409,
      "no_stripe_customer",
      "No Stripe customer",
      "This tenant has no Stripe customer yet: there is nothing to re-sync.",
    );
  }
  const now = Date.now();
  const event: LedgerEvent = {
    id: newId("billingResync"),
    type: "operator.resync",
    customerId: tenant.customer,
    tenantId: tenant.id,
    createdAt: now,
    receivedAt: now,
    source: "operator",
    state: "queued",
    attempts: 0,
    error: null,
    processedAt: null,
    replayAuditId: null,
  };
  await db.batch([
    db.insert(stripeEvents).values(event),
    operatorAuditEntry(ctx, db, {
      action: "billing.resync",
      tenantId: tenant.id,
      target: { type: "tenant", id: tenant.id },
      reason: input.reason,
      after: { ledger_event: event.id, customer_id: tenant.customer },
    }),
  ]);
  await ctx.env.BILLING_QUEUE.send(hint(event, tenant.customer, now), { contentType: "json" });
  return event;
}

/**
 * Replays a failed (dead-lettered) event: `failed → queued` is one guarded transition, marked
 * with this replay's audit entry, which is written only if the transition happened. A second
 * replay finds the event queued and gets 409, so the event is processed once.
 */
export async function replayStripeEvent({
  ctx,
  input,
}: {
  ctx: OperatorContext;
  input: { eventId: string; reason: string };
}): Promise<LedgerEvent> {
  const db = controlDb(ctx.env);
  const before = await db
    .select()
    .from(stripeEvents)
    .where(eq(stripeEvents.id, input.eventId))
    .get();
  if (!before) throw notFound("event");
  const notFailed = new ProblemError(
    409,
    "event_not_failed",
    "Event not failed",
    `Only failed events can be replayed; this one is ${before.state}.`,
  );
  if (before.state !== "failed" || !before.customerId) throw notFailed;
  const auditId = newId("audit");
  const [moved] = await db.batch([
    db
      .update(stripeEvents)
      .set({ state: "queued", processedAt: null, replayAuditId: auditId })
      .where(and(eq(stripeEvents.id, before.id), eq(stripeEvents.state, "failed"))),
    operatorAuditEntryWhere(
      ctx,
      db,
      {
        id: auditId,
        action: "billing.replay",
        tenantId: before.tenantId,
        target: { type: "stripe_event", id: before.id },
        reason: input.reason,
        before: { state: before.state, error: before.error, attempts: before.attempts },
        after: { state: "queued" },
      },
      sql`EXISTS (SELECT 1 FROM ${stripeEvents} WHERE ${stripeEvents.id} = ${before.id} AND ${stripeEvents.replayAuditId} = ${auditId})`,
    ),
  ]);
  if (moved.meta.changes !== 1) throw notFailed;
  const now = Date.now();
  await ctx.env.BILLING_QUEUE.send(hint(before, before.customerId, now), { contentType: "json" });
  return { ...before, state: "queued", processedAt: null, replayAuditId: auditId };
}

/**
 * Meters vs usage ledger vs Stripe's meter summaries (the logic `npm run usage:reconcile` uses),
 * for one tenant or every active tenant; mismatches are listed apart. Read-only: meters are not
 * flushed, so usage of the last minute may still show as a mismatch.
 */
export async function reconcileTenantUsage({
  ctx,
  input,
}: {
  ctx: OperatorContext;
  input: { tenantId?: string };
}): Promise<UsageReconcile> {
  return reconcileUsage(ctx.env, { tenantId: input.tenantId });
}
