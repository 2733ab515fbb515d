import { inChunks, meterFor, readBilling } from "@tenantry/core";
import {
  isUsageMetric,
  LIMIT_DEFINITIONS,
  type LimitKey,
  LimitKeySchema,
  usagePeriod,
} from "@tenantry/plans";
import { usageLedger } from "@tenantry/schema/control";
import { and, eq, gte, inArray, lt, sum } from "drizzle-orm";
import type { ServiceContext } from "../context";
import { controlDb } from "../db/control-db";
import { ValidationError } from "../errors";
import { periodAnchor } from "../meter-sources";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/**
 * Stripe refuses meter events older than 35 days. An event reaches Stripe stamped with the start
 * of its hour, up to METER_FLUSH_SECONDS (at most an hour) later, after queue retries and the
 * sweep's re-reports: a day of margin keeps what is accepted here reportable.
 */
const MAX_AGE_MS = 34 * DAY;
const MAX_AHEAD_MS = 5 * 60_000;

export interface UsageEventInput {
  id: string;
  metric: string;
  value: number;
  /** ISO 8601, or Unix seconds. */
  timestamp: string | number;
}

export interface UsageEventOutcome {
  id: string;
  status: "accepted" | "duplicate" | "rejected";
  reason?:
    | "unknown_metric"
    | "invalid_value"
    | "invalid_timestamp"
    | "timestamp_too_old"
    | "timestamp_in_future"
    | "over_limit"
    | "billing_read_only";
  detail?: string;
}

function rejection(event: UsageEventInput, now: number): UsageEventOutcome | number {
  const reject = (reason: UsageEventOutcome["reason"], detail: string): UsageEventOutcome => ({
    id: event.id,
    status: "rejected",
    reason,
    detail,
  });
  if (!isUsageMetric(event.metric)) {
    return reject("unknown_metric", `${event.metric} is not a usage metric of the catalog`);
  }
  if (!Number.isSafeInteger(event.value) || event.value < 0) {
    return reject("invalid_value", "value must be a non-negative integer");
  }
  const at =
    typeof event.timestamp === "number" ? event.timestamp * 1000 : Date.parse(event.timestamp);
  if (!Number.isFinite(at)) {
    return reject("invalid_timestamp", "timestamp must be ISO 8601 or Unix seconds");
  }
  if (at < now - MAX_AGE_MS) {
    return reject(
      "timestamp_too_old",
      "older than 34 days (Stripe refuses usage older than 35 days; a day is kept for delivery)",
    );
  }
  if (at > now + MAX_AHEAD_MS) return reject("timestamp_in_future", "more than 5 minutes ahead");
  return at;
}

/**
 * Ingests a batch of usage events: each is accepted, a duplicate (same id: counted once, for
 * as long as the meter keeps keys, at least 48 h), or rejected with a reason. Validation comes
 * first; the rest is counted by the tenant's meter in one call, so a retry of the same batch
 * changes nothing.
 */
export async function ingestUsage({
  ctx,
  input: { events },
}: {
  ctx: ServiceContext;
  input: { events: UsageEventInput[] };
}) {
  const now = Date.now();
  const outcomes: UsageEventOutcome[] = new Array(events.length);
  const counted: { index: number; metric: LimitKey; value: number; at: number }[] = [];
  events.forEach((event, index) => {
    const checked = rejection(event, now);
    if (typeof checked === "number") {
      counted.push({ index, metric: event.metric as LimitKey, value: event.value, at: checked });
    } else {
      outcomes[index] = checked;
    }
  });
  if (counted.length > 0) {
    const results = await meterFor(ctx.env.TENANT_METER, ctx.tenant.id).consumeMany(
      ctx.tenant.id,
      counted.map((c) => ({
        metric: c.metric,
        amount: c.value,
        at: c.at,
        key: `usage:${events[c.index]?.id}`,
      })),
    );
    results.forEach((result, i) => {
      const { index } = counted[i] as (typeof counted)[number];
      const id = (events[index] as UsageEventInput).id;
      outcomes[index] = result.duplicate
        ? { id, status: "duplicate" }
        : result.allowed
          ? { id, status: "accepted" }
          : result.reason === "read_only"
            ? {
                id,
                status: "rejected",
                reason: "billing_read_only",
                detail: "billing is read-only",
              }
            : {
                id,
                status: "rejected",
                reason: "over_limit",
                detail: `over the hard limit of ${result.limit} ${result.metric}`,
              };
    });
  }
  const tally = (status: UsageEventOutcome["status"]) =>
    outcomes.filter((o) => o.status === status).length;
  return {
    accepted: tally("accepted"),
    duplicates: tally("duplicate"),
    rejected: tally("rejected"),
    results: outcomes,
  };
}

export interface UsageQuery {
  metric: string;
  from?: string;
  to?: string;
  granularity: "hour" | "day";
}

/**
 * Usage per hour or day: the ledger (what the meter flushed) plus what the meter holds that the
 * ledger does not have yet, so the answer is current.
 */
export async function usageSeries({
  ctx,
  input: query,
}: {
  ctx: ServiceContext;
  input: UsageQuery;
}) {
  const metric = LimitKeySchema.safeParse(query.metric);
  if (!metric.success || LIMIT_DEFINITIONS[metric.data].kind !== "counter") {
    throw new ValidationError(`${query.metric} is not a usage metric.`, [
      { path: "query.metric", message: "a counter metric of the catalog (api_calls, events)" },
    ]);
  }
  const now = Date.now();
  const step = query.granularity === "hour" ? HOUR : DAY;
  const to = query.to ? Date.parse(query.to) : now;
  const from = query.from ? Date.parse(query.from) : to - 30 * DAY;
  const maxSpan = query.granularity === "hour" ? 31 * DAY : 400 * DAY;
  if (!Number.isFinite(from) || !Number.isFinite(to) || from >= to || to - from > maxSpan) {
    throw new ValidationError("from and to must be ISO 8601 times, from before to.", [
      {
        path: "query.from",
        message: `at most ${query.granularity === "hour" ? 31 : 400} days at ${query.granularity} granularity`,
      },
    ]);
  }
  const start = from - (from % step);
  const meter = meterFor(ctx.env.TENANT_METER, ctx.tenant.id);
  const [ledger, unflushed, period] = await Promise.all([
    controlDb(ctx.env)
      .select({
        window_start: usageLedger.windowStart,
        delta: sum(usageLedger.delta).mapWith(Number),
      })
      .from(usageLedger)
      .where(
        and(
          eq(usageLedger.tenantId, ctx.tenant.id),
          eq(usageLedger.metric, metric.data),
          gte(usageLedger.windowStart, start),
          lt(usageLedger.windowStart, to),
        ),
      )
      .groupBy(usageLedger.windowStart),
    meter.unflushedUsage(metric.data, start, to),
    currentPeriod(ctx, meter, metric.data, now),
  ]);
  const recentKeys = unflushed.flatMap((u) => (u.key ? [u.key] : []));
  const inLedger = new Set<string>();
  for (const chunk of inChunks(recentKeys)) {
    const rows = await controlDb(ctx.env)
      .select({ key: usageLedger.key })
      .from(usageLedger)
      .where(inArray(usageLedger.key, chunk));
    for (const row of rows) inLedger.add(row.key);
  }
  const buckets = new Map<number, number>();
  const add = (windowStart: number, delta: number) => {
    const bucket = windowStart - (windowStart % step);
    buckets.set(bucket, (buckets.get(bucket) ?? 0) + delta);
  };
  for (const row of ledger) add(row.window_start, row.delta);
  for (const row of unflushed)
    if (!row.key || !inLedger.has(row.key)) add(row.window_start, row.delta);
  const data = [...buckets]
    .sort(([a], [b]) => a - b)
    .map(([bucket, value]) => ({ start: new Date(bucket).toISOString(), value }));
  return {
    metric: metric.data,
    granularity: query.granularity,
    from: new Date(start).toISOString(),
    to: new Date(to).toISOString(),
    total: data.reduce((sum, d) => sum + d.value, 0),
    data,
    period,
  };
}

/**
 * The quota period holding `now` and what it used, as the meter (the quota authority) counts it;
 * a period the meter has not counted in yet used nothing.
 */
async function currentPeriod(
  ctx: ServiceContext,
  meter: ReturnType<typeof meterFor>,
  metric: LimitKey,
  now: number,
) {
  const counted = (await meter.totals()).find(
    (t) => t.metric === metric && t.period_start <= now && now < t.period_end,
  );
  const { start, end } = counted
    ? { start: counted.period_start, end: counted.period_end }
    : usagePeriod(now, periodAnchor(await readBilling(ctx.env, ctx.tenant.id)));
  return {
    start: new Date(start).toISOString(),
    end: new Date(end).toISOString(),
    used: counted?.used ?? 0,
  };
}
