import {
  controlDb,
  coreConfig,
  inChunks,
  log,
  QUEUE_BATCH_LIMIT,
  stripeClient,
  syncTenantBilling,
} from "@tenantry/core";
import { jobCheckpoints, stripeEvents, subscriptions, tenants } from "@tenantry/schema/control";
import { and, eq, exists, inArray, isNotNull, lt, notInArray, or, sql } from "drizzle-orm";
import type Stripe from "stripe";
import { z } from "zod";
import type { BillingMessage, Env } from "./env";
import { config } from "./env";
import { recordEvent } from "./ledger";

export interface SweepReport {
  /** Ledger rows still queued long after they arrived, sent to the queue again. */
  requeued: number;
  resynced: number;
  failed: number;
  /** Events from Stripe's events list that had never reached the intake. */
  backfilled: number;
  /** The backfill ran out of its budget; the next sweep continues from its cursor. */
  backfillPending: boolean;
}

/** How much of Stripe's events list one sweep reads (a first run over 30 days can be huge). */
export interface BackfillBudget {
  pageSize: number;
  maxPages: number;
  maxMs: number;
}

/** A queued event older than this has lost its message (retries with backoff take ~3 minutes). */
const STALE_QUEUED_MS = 15 * 60_000;
/** Statuses that can still change without a customer action (renewals, trials, dunning). */
const NON_FINAL = ["trialing", "past_due", "incomplete", "unpaid", "paused"];
/** Statuses that never change again: their period end stays in the past for good. */
const FINAL = ["canceled", "incomplete_expired"];
const CHECKPOINT = "stripe_events_backfill";
/** The backfill re-reads this much before its checkpoint, so nothing falls between two runs. */
const OVERLAP_SECONDS = 300;
const BACKFILL_BUDGET: BackfillBudget = { pageSize: 100, maxPages: 20, maxMs: 60_000 };

/**
 * A backfill run in progress: Stripe's events created in `[since, until]` (Unix seconds, fixed
 * when the run began), listed newest first, continuing after the event `after`.
 */
const BackfillRunSchema = z.object({
  since: z.number().int(),
  until: z.number().int(),
  after: z.string().nullable(),
});
type BackfillRun = z.infer<typeof BackfillRunSchema>;

/**
 * The scheduled sweep: re-enqueues lost messages, re-syncs tenants whose billing can change
 * on its own (non-final statuses, a pending cancellation, a period that has ended, failed
 * events), and backfills events that never arrived from Stripe's events list.
 */
export async function sweepBilling(
  env: Env,
  now = Date.now(),
  budget: BackfillBudget = BACKFILL_BUDGET,
): Promise<SweepReport> {
  const report: SweepReport = {
    requeued: 0,
    resynced: 0,
    failed: 0,
    backfilled: 0,
    backfillPending: false,
  };
  report.requeued = await requeueStale(env, now);
  const stripe = stripeClient(coreConfig(env));
  if (!stripe) return report;

  // A canceled subscription keeps its last period end, in the past for good: only a live one
  // whose period ended (or that cancels at its end) can have changed without telling us.
  const db = controlDb(env);
  const s = subscriptions;
  const due = await db
    .select({
      id: tenants.id,
      plan: tenants.plan,
      databaseBinding: tenants.databaseBinding,
      stripeCustomerId: tenants.stripeCustomerId,
    })
    .from(tenants)
    .leftJoin(s, eq(s.tenantId, tenants.id))
    .where(
      and(
        eq(tenants.status, "active"),
        isNotNull(tenants.stripeCustomerId),
        or(
          inArray(s.status, NON_FINAL),
          and(
            notInArray(s.status, FINAL),
            or(eq(s.cancelAtPeriodEnd, true), lt(s.currentPeriodEnd, now)),
          ),
          exists(
            db
              .select({ id: stripeEvents.id })
              .from(stripeEvents)
              .where(
                and(
                  eq(stripeEvents.customerId, tenants.stripeCustomerId),
                  eq(stripeEvents.state, "failed"),
                ),
              ),
          ),
        ),
      ),
    )
    .orderBy(sql`COALESCE(${s.syncedAt}, 0)`)
    .limit(50);
  for (const tenant of due) {
    try {
      await syncTenantBilling(env, tenant, { requestId: "sweep", ip: null });
      // The customer is in sync now; its failed events keep their error for the record.
      await db
        .update(stripeEvents)
        .set({ state: "processed", processedAt: now })
        .where(
          and(
            eq(stripeEvents.customerId, tenant.stripeCustomerId as string),
            eq(stripeEvents.state, "failed"),
          ),
        );
      report.resynced++;
    } catch (err) {
      report.failed++;
      log.forTenant(tenant.id).warn("sweep re-sync failed", { error: String(err) });
    }
  }

  const backfill = await backfillEvents(env, stripe, now, budget);
  report.backfilled = backfill.backfilled;
  report.backfillPending = backfill.pending;
  return report;
}

/**
 * Records the events of Stripe's events list that never reached the intake. A run covers the
 * events created from the checkpoint (less an overlap) up to when it began; it saves its cursor
 * after every page and stops at its budget, and the next sweep continues from there, so a run
 * of any size finishes. Once the list is exhausted the checkpoint moves to the run's upper bound.
 */
async function backfillEvents(
  env: Env,
  stripe: Stripe,
  now: number,
  budget: BackfillBudget,
): Promise<{ backfilled: number; pending: boolean }> {
  const db = controlDb(env);
  const saved = await db
    .select({ value: jobCheckpoints.value, cursor: jobCheckpoints.cursor })
    .from(jobCheckpoints)
    .where(eq(jobCheckpoints.name, CHECKPOINT))
    .get();
  const run: BackfillRun = saved?.cursor
    ? BackfillRunSchema.parse(JSON.parse(saved.cursor))
    : {
        since: saved
          ? saved.value - OVERLAP_SECONDS
          : Math.floor(now / 1000) - config(env).BACKFILL_WINDOW_HOURS * 3600,
        until: Math.floor(now / 1000),
        after: null,
      };
  const save = (value: number, cursor: BackfillRun | null) => {
    const row = { value, cursor: cursor ? JSON.stringify(cursor) : null, updatedAt: now };
    return db
      .insert(jobCheckpoints)
      .values({ name: CHECKPOINT, ...row })
      .onConflictDoUpdate({ target: jobCheckpoints.name, set: row });
  };
  let backfilled = 0;
  const started = Date.now();
  for (let page = 0; page < budget.maxPages && Date.now() - started < budget.maxMs; page++) {
    const list = await stripe.events.list({
      created: { gte: run.since, lte: run.until },
      limit: budget.pageSize,
      ...(run.after ? { starting_after: run.after } : {}),
    });
    for (const event of list.data) {
      if ((await recordEvent(env, event, "backfill", now)) === "queued") backfilled++;
    }
    const last = list.data.at(-1);
    if (!list.has_more || !last) {
      await save(run.until, null);
      return { backfilled, pending: false };
    }
    run.after = last.id;
    // Until the run ends, the checkpoint keeps what the previous run reached (the window's
    // start on a first run): a lost cursor starts the run again, never skips events.
    await save(saved?.value ?? run.since, run);
  }
  return { backfilled, pending: true };
}

async function requeueStale(env: Env, now: number): Promise<number> {
  const stale = await controlDb(env)
    .select({
      id: stripeEvents.id,
      type: stripeEvents.type,
      customer_id: stripeEvents.customerId,
      tenant_id: stripeEvents.tenantId,
    })
    .from(stripeEvents)
    .where(
      and(eq(stripeEvents.state, "queued"), lt(stripeEvents.receivedAt, now - STALE_QUEUED_MS)),
    )
    .orderBy(stripeEvents.receivedAt)
    .limit(500);
  // Only events naming a customer are ever queued (the intake ignores the others).
  const messages = stale.flatMap(({ customer_id, ...e }) =>
    customer_id
      ? [
          {
            body: {
              event_id: e.id,
              event_type: e.type,
              customer_id,
              tenant_id: e.tenant_id,
              received_at: now,
            } satisfies BillingMessage,
            contentType: "json" as const,
          },
        ]
      : [],
  );
  for (const chunk of inChunks(messages, QUEUE_BATCH_LIMIT)) {
    await env.BILLING_QUEUE.sendBatch(chunk);
  }
  return messages.length;
}
