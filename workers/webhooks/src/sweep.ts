import { type BillingTenant, coreConfig, stripeClient, syncTenantBilling } from "@tenantry/core";
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
}

/** A queued event older than this has lost its message (retries with backoff take ~3 minutes). */
const STALE_QUEUED_MS = 15 * 60_000;
/** Statuses that can still change without a customer action (renewals, trials, dunning). */
const NON_FINAL = ["trialing", "past_due", "incomplete", "unpaid", "paused"];
const CHECKPOINT = "stripe_events_backfill";
/** The backfill re-reads this much before its checkpoint, so nothing falls between two runs. */
const OVERLAP_SECONDS = 300;

/**
 * The scheduled sweep: re-enqueues lost messages, re-syncs tenants whose billing can change
 * on its own (non-final statuses, a pending cancellation, a period that has ended, failed
 * events), and backfills events that never arrived from Stripe's events list.
 */
export async function sweepBilling(env: Env, now = Date.now()): Promise<SweepReport> {
  const report: SweepReport = { requeued: 0, resynced: 0, failed: 0, backfilled: 0 };
  report.requeued = await requeueStale(env, now);
  const stripe = stripeClient(coreConfig(env));
  if (!stripe) return report;

  const due = await env.CONTROL_DB.prepare(
    `SELECT t.id, t.plan, t.database_binding AS databaseBinding, t.stripe_customer_id AS stripeCustomerId
     FROM tenants t LEFT JOIN subscriptions s ON s.tenant_id = t.id
     WHERE t.status = 'active' AND t.stripe_customer_id IS NOT NULL AND (
       s.status IN (${NON_FINAL.map(() => "?").join(", ")})
       OR s.cancel_at_period_end = 1
       OR s.current_period_end < ?
       OR EXISTS (SELECT 1 FROM stripe_events e WHERE e.customer_id = t.stripe_customer_id AND e.state = 'failed'))
     ORDER BY COALESCE(s.synced_at, 0) LIMIT 50`,
  )
    .bind(...NON_FINAL, now)
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
      console.error(
        JSON.stringify({
          level: "warn",
          msg: "sweep re-sync failed",
          tenant_id: tenant.id,
          error: String(err),
        }),
      );
    }
  }

  const checkpoint = await env.CONTROL_DB.prepare(
    "SELECT value FROM job_checkpoints WHERE name = ?",
  )
    .bind(CHECKPOINT)
    .first<{ value: number }>();
  const since = checkpoint
    ? checkpoint.value - OVERLAP_SECONDS
    : Math.floor(now / 1000) - config(env).BACKFILL_WINDOW_HOURS * 3600;
  let newest = checkpoint?.value ?? since;
  // Stripe lists newest first; the checkpoint moves only after the whole range was read.
  for await (const event of stripe.events.list({ created: { gte: since }, limit: 100 })) {
    if ((await recordEvent(env, event, "backfill", now)) === "queued") report.backfilled++;
    newest = Math.max(newest, event.created);
  }
  await env.CONTROL_DB.prepare(
    `INSERT INTO job_checkpoints (name, value, updated_at) VALUES (?1, ?2, ?3)
     ON CONFLICT (name) DO UPDATE SET value = ?2, updated_at = ?3`,
  )
    .bind(CHECKPOINT, newest, now)
    .run();
  return report;
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
  for (let i = 0; i < messages.length; i += 100) {
    await env.BILLING_QUEUE.sendBatch(messages.slice(i, i + 100));
  }
  return messages.length;
}
