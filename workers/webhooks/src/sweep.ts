import {
  type BillingTenant,
  coreConfig,
  inChunks,
  log,
  QUEUE_BATCH_LIMIT,
  stripeClient,
  syncTenantBilling,
} from "@tenantry/core";
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
  const due = await env.CONTROL_DB.prepare(
    `SELECT t.id, t.plan, t.database_binding AS databaseBinding, t.stripe_customer_id AS stripeCustomerId
     FROM tenants t LEFT JOIN subscriptions s ON s.tenant_id = t.id
     WHERE t.status = 'active' AND t.stripe_customer_id IS NOT NULL AND (
       s.status IN (${NON_FINAL.map(() => "?").join(", ")})
       OR (s.status NOT IN (${FINAL.map(() => "?").join(", ")})
         AND (s.cancel_at_period_end = 1 OR s.current_period_end < ?))
       OR EXISTS (SELECT 1 FROM stripe_events e WHERE e.customer_id = t.stripe_customer_id AND e.state = 'failed'))
     ORDER BY COALESCE(s.synced_at, 0) LIMIT 50`,
  )
    .bind(...NON_FINAL, ...FINAL, now)
    .all<BillingTenant>();
  for (const tenant of due.results) {
    try {
      await syncTenantBilling(env, tenant, { requestId: "sweep", ip: null });
      // The customer is in sync now; its failed events keep their error for the record.
      await env.CONTROL_DB.prepare(
        "UPDATE stripe_events SET state = 'processed', processed_at = ? WHERE customer_id = ? AND state = 'failed'",
      )
        .bind(now, tenant.stripeCustomerId)
        .run();
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
  const saved = await env.CONTROL_DB.prepare(
    "SELECT value, cursor FROM job_checkpoints WHERE name = ?",
  )
    .bind(CHECKPOINT)
    .first<{ value: number; cursor: string | null }>();
  const run: BackfillRun = saved?.cursor
    ? BackfillRunSchema.parse(JSON.parse(saved.cursor))
    : {
        since: saved
          ? saved.value - OVERLAP_SECONDS
          : Math.floor(now / 1000) - config(env).BACKFILL_WINDOW_HOURS * 3600,
        until: Math.floor(now / 1000),
        after: null,
      };
  const save = (value: number, cursor: BackfillRun | null) =>
    env.CONTROL_DB.prepare(
      `INSERT INTO job_checkpoints (name, value, cursor, updated_at) VALUES (?1, ?2, ?3, ?4)
       ON CONFLICT (name) DO UPDATE SET value = ?2, cursor = ?3, updated_at = ?4`,
    )
      .bind(CHECKPOINT, value, cursor ? JSON.stringify(cursor) : null, now)
      .run();
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
  const stale = await env.CONTROL_DB.prepare(
    `SELECT id, type, customer_id, tenant_id FROM stripe_events
     WHERE state = 'queued' AND received_at < ? ORDER BY received_at LIMIT 500`,
  )
    .bind(now - STALE_QUEUED_MS)
    .all<{ id: string; type: string; customer_id: string; tenant_id: string | null }>();
  const messages = stale.results.map((e) => ({
    body: {
      event_id: e.id,
      event_type: e.type,
      customer_id: e.customer_id,
      tenant_id: e.tenant_id,
      received_at: now,
    } satisfies BillingMessage,
    contentType: "json" as const,
  }));
  for (const chunk of inChunks(messages, QUEUE_BATCH_LIMIT)) {
    await env.BILLING_QUEUE.sendBatch(chunk);
  }
  return messages.length;
}
