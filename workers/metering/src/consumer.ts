import {
  controlDb,
  coreConfig,
  inChunks,
  log,
  parseMessages,
  retryDelaySeconds,
  stripeClient,
  type UsageMessage,
  UsageMessageSchema,
} from "@tenantry/core";
import { CATALOG, isMeteredMetric, type MeteredMetric } from "@tenantry/plans";
import { tenants, usageLedger } from "@tenantry/schema/control";
import { and, eq, gt, inArray, isNotNull, isNull, lt } from "drizzle-orm";
import Stripe from "stripe";
import type { Env } from "./env";

/** Reports one ledger row to Stripe as a meter event; tests wrap it to crash at chosen points. */
export type Reporter = (env: Env, row: BillableRow) => Promise<void>;

export interface ConsumerDeps {
  report: Reporter;
}

export interface BillableRow {
  key: string;
  metric: MeteredMetric;
  customer: string;
  billable: number;
  windowStart: number;
}

/** Stripe refuses meter events whose timestamp is older than this. */
const STRIPE_MAX_AGE_MS = 35 * 86_400_000;

/**
 * Why Stripe will never take this row's meter event, or null if a retry may succeed: a timestamp
 * past Stripe's 35 days, or any other invalid request (a repeated identifier is a success and
 * never gets here). Outages, rate limits and lost answers are retried.
 */
function unreportable(
  row: Pick<BillableRow, "windowStart">,
  err: unknown,
  now: number,
): string | null {
  if (row.windowStart < now - STRIPE_MAX_AGE_MS) {
    return `timestamp ${new Date(row.windowStart).toISOString()} is older than the 35 days Stripe accepts`;
  }
  if (err instanceof Stripe.errors.StripeInvalidRequestError) {
    return `Stripe refused the meter event: ${err.param ? `${err.param}: ` : ""}${err.message}`;
  }
  return null;
}

/**
 * Sends a meter event whose `identifier` and `Idempotency-Key` are both the ledger key. A retry
 * after a lost answer gets Stripe's stored answer (same idempotency key), or, once that has
 * expired, Stripe's refusal of a repeated identifier: both mean Stripe has the event.
 */
export const reportMeterEvent: Reporter = async (env, row) => {
  const stripe = stripeClient(coreConfig(env));
  if (!stripe) throw new Error("STRIPE_SECRET_KEY is not set: billable usage cannot be reported");
  const meter = CATALOG.meters[row.metric];
  try {
    await stripe.billing.meterEvents.create(
      {
        event_name: meter.eventName,
        identifier: row.key,
        timestamp: Math.floor(row.windowStart / 1000),
        payload: { stripe_customer_id: row.customer, [meter.valueKey]: String(row.billable) },
      },
      { idempotencyKey: row.key },
    );
  } catch (err) {
    if (
      err instanceof Stripe.errors.StripeInvalidRequestError &&
      err.param === "identifier" &&
      /already exists/i.test(err.message)
    ) {
      return;
    }
    throw err;
  }
};

/**
 * The USAGE queue consumer. For the whole batch: the ledger rows are inserted (insert-or-ignore
 * on the key, so a redelivery adds nothing); then each row with billable usage that Stripe has
 * not confirmed yet is sent as a meter event and marked reported. A message is acknowledged only
 * after both; a failure retries it with backoff, and after the last retry it goes to the
 * dead-letter queue. A row Stripe refuses for good is marked dead in the ledger with the reason
 * and its message acknowledged: retrying it would only fail again. A message whose body does not
 * parse is logged and acknowledged.
 */
export async function consumeUsageBatch(
  env: Env,
  batch: MessageBatch<unknown>,
  deps: ConsumerDeps = { report: reportMeterEvent },
): Promise<{ inserted: number; reported: number; failed: number; dead: number }> {
  const messages = parseMessages(batch, UsageMessageSchema, "usage");
  const now = Date.now();
  const db = controlDb(env);
  // Insert-or-ignore on the key: a redelivered message adds nothing.
  const [first, ...rest] = messages.map((m) =>
    db
      .insert(usageLedger)
      .values({
        key: m.body.key,
        tenantId: m.body.tenant_id,
        metric: m.body.metric,
        windowStart: m.body.window_start,
        periodStart: m.body.period_start ?? null,
        seq: m.body.seq,
        delta: m.body.delta,
        billable: m.body.billable,
        createdAt: now,
      })
      .onConflictDoNothing()
      .returning({ key: usageLedger.key }),
  );
  const written = first ? await db.batch([first, ...rest]) : [];
  const inserted = written.filter((r) => r.length > 0).length;

  const billable = messages.filter((m) => m.body.billable > 0 && isMeteredMetric(m.body.metric));
  const pending = await unreported(env, billable);
  const tally = { reported: 0, failed: 0, dead: 0 };
  const retry = new Set<Message<UsageMessage>>();
  await Promise.all(
    billable.map(async (m) => {
      const row = pending.get(m.body.key);
      if (!row) return; // Stripe confirmed it on an earlier delivery, or it was given up on.
      const outcome = await reportRow(
        env,
        deps,
        { ...row, tenantId: m.body.tenant_id },
        "retrying",
      );
      tally[outcome]++;
      if (outcome === "failed") retry.add(m);
    }),
  );
  for (const m of messages) {
    if (retry.has(m)) m.retry({ delaySeconds: retryDelaySeconds(m.attempts) });
    else m.ack();
  }
  return { inserted, ...tally };
}

/**
 * Reports one ledger row and records the outcome: `reported` (Stripe has it), `dead` (Stripe
 * will never take it: the row is marked with the reason and no one reports it again), or
 * `failed` (the caller tries again later). A tenant without a Stripe customer yet is a failure:
 * the sweep reports the row once the customer exists.
 */
async function reportRow(
  env: Env,
  deps: ConsumerDeps,
  row: Omit<BillableRow, "customer"> & { customer: string | null; tenantId: string },
  retrying: string,
): Promise<"reported" | "dead" | "failed"> {
  let reason: string | null;
  let error: string;
  try {
    if (!row.customer) throw new Error(`tenant ${row.tenantId} has no Stripe customer to bill`);
    // Too old for Stripe already: not worth a request, nor a retry.
    reason = unreportable(row, null, Date.now());
    if (!reason) {
      await deps.report(env, { ...row, customer: row.customer });
      await controlDb(env)
        .update(usageLedger)
        .set({ reportedAt: Date.now() })
        .where(and(eq(usageLedger.key, row.key), isNull(usageLedger.reportedAt)));
      return "reported";
    }
    error = reason;
  } catch (err) {
    reason = unreportable(row, err, Date.now());
    error = err instanceof Error ? err.message : String(err);
  }
  const rowLog = log.forTenant(row.tenantId);
  if (!reason) {
    rowLog.warn(`meter event failed; ${retrying}`, { key: row.key, error });
    return "failed";
  }
  await controlDb(env)
    .update(usageLedger)
    .set({ deadAt: Date.now(), reportError: reason })
    .where(and(eq(usageLedger.key, row.key), isNull(usageLedger.reportedAt)));
  rowLog.error("Stripe refuses this usage for good: dead-lettered, see npm run usage:reconcile", {
    key: row.key,
    error,
  });
  return "dead";
}

/** The batch's billable rows that Stripe has not confirmed, with their tenant's customer. */
async function unreported(
  env: Env,
  messages: Message<UsageMessage>[],
): Promise<Map<string, Omit<BillableRow, "customer"> & { customer: string | null }>> {
  const rows = new Map<string, Omit<BillableRow, "customer"> & { customer: string | null }>();
  const keys = messages.map((m) => m.body.key);
  for (const chunk of inChunks(keys)) {
    const result = await controlDb(env)
      .select({
        key: usageLedger.key,
        metric: usageLedger.metric,
        billable: usageLedger.billable,
        windowStart: usageLedger.windowStart,
        customer: tenants.stripeCustomerId,
      })
      .from(usageLedger)
      .leftJoin(tenants, eq(tenants.id, usageLedger.tenantId))
      .where(
        and(
          isNull(usageLedger.reportedAt),
          isNull(usageLedger.deadAt),
          inArray(usageLedger.key, chunk),
        ),
      );
    for (const r of result) rows.set(r.key, { ...r, metric: r.metric as MeteredMetric });
  }
  return rows;
}

/**
 * The scheduled sweep: billable ledger rows that Stripe has not confirmed ten minutes after they
 * were written (their message died, or the tenant had no Stripe customer yet) are reported
 * again, with the same identifier, so Stripe still counts each once. Rows Stripe refuses for
 * good are marked dead and never picked again, so they cannot crowd out the others.
 */
export async function reportUnreported(
  env: Env,
  deps: ConsumerDeps = { report: reportMeterEvent },
  now = Date.now(),
): Promise<{ reported: number; failed: number; dead: number }> {
  const rows = await controlDb(env)
    .select({
      key: usageLedger.key,
      tenantId: usageLedger.tenantId,
      metric: usageLedger.metric,
      billable: usageLedger.billable,
      windowStart: usageLedger.windowStart,
      customer: tenants.stripeCustomerId,
    })
    .from(usageLedger)
    .innerJoin(tenants, eq(tenants.id, usageLedger.tenantId))
    .where(
      and(
        isNull(usageLedger.reportedAt),
        isNull(usageLedger.deadAt),
        gt(usageLedger.billable, 0),
        lt(usageLedger.createdAt, now - 10 * 60_000),
        isNotNull(tenants.stripeCustomerId),
      ),
    )
    .orderBy(usageLedger.createdAt)
    .limit(500);
  const tally = { reported: 0, failed: 0, dead: 0 };
  for (const r of rows) {
    const row = { ...r, metric: r.metric as MeteredMetric, customer: r.customer as string };
    tally[await reportRow(env, deps, row, "the next sweep retries")]++;
  }
  return tally;
}

/**
 * The dead-letter queue's consumer: logs each message with its key. A row that reached the
 * ledger is reported later by the sweep; one that did not shows up in `npm run usage:reconcile`.
 */
export async function deadLetter(batch: MessageBatch<unknown>): Promise<void> {
  for (const m of parseMessages(batch, UsageMessageSchema, "usage")) {
    log
      .forTenant(m.body.tenant_id)
      .error("usage message dead-lettered: run npm run usage:reconcile", {
        key: m.body.key,
        billable: m.body.billable,
      });
    m.ack();
  }
}
