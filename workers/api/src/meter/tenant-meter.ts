import { DurableObject } from "cloudflare:workers";
import { readBilling, tenantDb, type UsageMessage } from "@tenantry/core";
import {
  billableUsage,
  CATALOG,
  checkLimit,
  type Entitlements,
  isMeteredMetric,
  LIMIT_DEFINITIONS,
  type LimitKey,
  type Period,
  type PlanId,
  type RateLimit,
  usagePeriod,
} from "@tenantry/plans";
import type { Env } from "../env";
import { tenantEntitlements } from "../services/entitlements";
import { findTenantById } from "../services/registry";

/**
 * One unit of work to count: `key` makes a retry of a counted call return the first answer and
 * count once (refusals are not remembered, so a retry is checked again).
 */
export interface ConsumeInput {
  metric: LimitKey;
  /** Positive to use, negative to release (gauges). */
  amount: number;
  key?: string;
  /** When the usage happened (epoch ms); decides its period and hour. Defaults to now. */
  at?: number;
  /**
   * Gauges: the unit is reserved under `key` until the change that needed it is written
   * (`settle`) or abandoned (`cancel`); re-derivation counts pending reservations.
   */
  reserve?: boolean;
}

/** A gauge corrected by re-deriving it from the tenant's database. */
export interface GaugeDrift {
  metric: LimitKey;
  from: number;
  to: number;
}

export interface ConsumeResult {
  metric: LimitKey;
  /** The plan whose limits applied (free under free_limits). */
  plan: PlanId;
  allowed: boolean;
  /** Usage after this call (before it, when refused). */
  used: number;
  limit: number | null;
  hard: boolean;
  remaining: number | null;
  /** When the period's counter resets (ISO); null for gauges. */
  resets_at: string | null;
  /** Units of this call above a soft limit. */
  overage: number;
  reason?: "limit_exceeded" | "read_only";
  /** True when `key` was seen before: this is the first answer, and nothing was counted. */
  duplicate?: boolean;
}

/**
 * Which budgets a request draws from. `standard` and `expensive` requests draw from the tenant's
 * (and the API key's) budgets and count one `api_calls` against the monthly quota; `essential`
 * ones (sign-out, billing, revocations) only from a small budget of their own, so an exhausted
 * tenant can still fix its situation; `refused` ones (a missing permission) only from another
 * small budget, so a low-privilege credential cannot spend the tenant's budget on refusals.
 */
export const ADMISSION_CLASSES = ["standard", "expensive", "essential", "refused"] as const;
export type AdmissionClass = (typeof ADMISSION_CLASSES)[number];

/** How a lease of an isolate was used: reported when it ends, so API calls count what ran. */
export interface LeaseReport {
  id: string;
  used: number;
  /** Whether its requests count as `api_calls` (not for refusals). */
  counted: boolean;
}

export interface LeaseInput {
  cls: AdmissionClass;
  apiKeyId: string | null;
  /** How many admissions the isolate would like to hold (it grows with the request rate). */
  want: number;
  /** Leases of this isolate that ended since its last call. */
  reports: LeaseReport[];
}

/** What the RateLimit-* headers say: the budget closest to running out. */
export interface QuotaHeader {
  limit: number;
  /** Remaining after this grant (the grant's own tokens counted as used). */
  remaining: number;
  /** Epoch ms when it resets. */
  resetAt: number;
}

export type LeaseResult =
  | {
      allowed: true;
      id: string;
      tokens: number;
      /** Epoch ms after which the lease's unused tokens may not be used. */
      until: number;
      quota: QuotaHeader;
      /** The plan's `api_access` feature: API keys are refused without it. */
      apiAccess: boolean;
    }
  | {
      allowed: false;
      retryAfter: number;
      quota: QuotaHeader;
      reason: string;
      apiAccess: boolean;
    };

/** A lease lasts at most this long and never past the end of the current second. */
export const LEASE_MS = 1000;
/** Most admissions one lease carries. */
const MAX_LEASE_TOKENS = 1000;
/** A lease not reported this long after it ended is forgotten (its isolate is gone). */
const LEASE_GRACE_MS = 5000;

interface Outstanding {
  tokens: number;
  until: number;
  /** The windows its tokens were counted in, for refunds of what was not used. */
  windows: { key: string; start: number }[];
  /** Tokens reserved against the monthly quota. */
  reserved: number;
}

const HOUR = 3_600_000;
/** API call counts are written to storage at most this long after they happen (see `buffer`). */
const CALLS_PERSIST_MS = 100;

interface UsageRow {
  metric: LimitKey;
  windowStart: number;
  periodStart: number;
  periodEnd: number;
  used: number;
  overage: number;
  billable: number;
}
/** Gauges are re-derived from the tenant's database at least this often while they are used. */
const GAUGE_DERIVE_MS = 15 * 60_000;
/** A reservation neither settled nor cancelled this long is taken as abandoned (a crash). */
const RESERVATION_TTL_MS = 5 * 60_000;
const GAUGES = (Object.keys(LIMIT_DEFINITIONS) as LimitKey[]).filter(
  (m) => LIMIT_DEFINITIONS[m].kind === "gauge",
);
/** Entitlements are re-read at least this often, besides `refresh()` after every change. */
const ENTITLEMENTS_TTL_MS = 60_000;
/** Idempotency keys are kept at least this long (the issue asks for 48 h). */
const KEY_RETENTION_MS = 49 * HOUR;
/** A sent outbox row counts as possibly not yet in the ledger for this long. */
const IN_FLIGHT_MS = 10 * 60_000;
/** Sent outbox rows are kept this long, for reconciliation. */
const OUTBOX_RETENTION_MS = 40 * 24 * HOUR;

/**
 * The exact authority for one tenant's quotas and usage (one object per tenant, addressed by its
 * id, SQLite storage). Every check-and-count runs in one synchronous storage transaction, so
 * concurrent calls never both take the last unit. Counters reset monthly, aligned to the billing
 * anchor when there is one; gauges (seats, projects) are current totals. An alarm moves pending
 * deltas into an outbox and sends them to the USAGE queue.
 */
export class TenantMeter extends DurableObject<Env> {
  private tenantId: string | null = null;
  private entitlements: { value: Entitlements; anchor: number | null; until: number } | null = null;
  /** Request budgets: fixed windows in memory (a restart forgives at most one window). */
  private readonly windows = new Map<string, { start: number; count: number }>();
  private alarmScheduled: boolean | null = null;
  /** Per-period totals of counters (`metric:period_start`), read once from storage. */
  private readonly periodTotals = new Map<string, number>();
  private lastPeriod: (Period & { anchor: number | null; endIso: string }) | null = null;
  private readonly buffered = new Map<string, UsageRow>();
  private persistTimer: ReturnType<typeof setTimeout> | null = null;
  /** Whether usage was counted since the last flush was scheduled. */
  private dirty = false;
  /** Leases granted to isolates and not reported yet. */
  private readonly outstanding = new Map<string, Outstanding>();
  /** Their tokens reserved against a hard monthly `api_calls` quota. */
  private reserved = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      const sql = ctx.storage.sql;
      sql.exec(`CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)`);
      // Counter usage per hour window (a window never straddles two periods): what was used,
      // above a soft limit, billable, and how much of it the outbox already carries.
      sql.exec(`CREATE TABLE IF NOT EXISTS usage (metric TEXT NOT NULL, window_start INTEGER NOT NULL,
        period_start INTEGER NOT NULL, period_end INTEGER NOT NULL, used INTEGER NOT NULL,
        overage INTEGER NOT NULL DEFAULT 0, billable INTEGER NOT NULL DEFAULT 0,
        flushed_used INTEGER NOT NULL DEFAULT 0, flushed_billable INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (metric, window_start))`);
      sql.exec(
        `CREATE TABLE IF NOT EXISTS gauges (metric TEXT PRIMARY KEY, value INTEGER NOT NULL)`,
      );
      sql.exec(`CREATE TABLE IF NOT EXISTS keys (key TEXT PRIMARY KEY, result TEXT NOT NULL,
        created_at INTEGER NOT NULL)`);
      // Units of a gauge taken for a change not yet written to the tenant's database; kept a
      // while after they settle, so a re-derivation racing the write never counts one short.
      sql.exec(`CREATE TABLE IF NOT EXISTS reservations (key TEXT PRIMARY KEY, metric TEXT NOT NULL,
        created_at INTEGER NOT NULL, settled_at INTEGER)`);
      sql.exec(`CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT,
        metric TEXT NOT NULL, window_start INTEGER NOT NULL, delta INTEGER NOT NULL,
        billable INTEGER NOT NULL, key TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL,
        sent_at INTEGER, period_start INTEGER)`);
      // Outboxes created before rows carried their period get the column (null on old rows).
      const columns = sql.exec(
        "SELECT 1 FROM pragma_table_info('outbox') WHERE name = 'period_start'",
      );
      if (columns.toArray().length === 0) {
        sql.exec("ALTER TABLE outbox ADD COLUMN period_start INTEGER");
      }
      this.tenantId =
        sql.exec<{ value: string }>("SELECT value FROM meta WHERE name = 'tenant_id'").toArray()[0]
          ?.value ?? null;
    });
  }

  /** Re-reads the tenant's entitlements (plan, billing state, overrides) at once. */
  async refresh(tenantId: string): Promise<void> {
    this.bind(tenantId);
    this.entitlements = null;
    await this.loadEntitlements();
  }

  async consume(tenantId: string, input: ConsumeInput): Promise<ConsumeResult> {
    return (await this.consumeMany(tenantId, [input]))[0] as ConsumeResult;
  }

  /** Several checks-and-counts, each on its own (a refused one does not stop the others). */
  async consumeMany(tenantId: string, inputs: ConsumeInput[]): Promise<ConsumeResult[]> {
    this.bind(tenantId);
    const entitlements = await this.loadEntitlements();
    for (const metric of new Set(inputs.map((i) => i.metric))) {
      if (LIMIT_DEFINITIONS[metric].kind === "gauge") await this.deriveGaugeIfDue(metric);
    }
    const now = Date.now();
    let results: ConsumeResult[];
    try {
      results = this.ctx.storage.transactionSync(() =>
        inputs.map((input) => this.count(entitlements, input, now)),
      );
    } catch (err) {
      // Rolled back: totals cached during the transaction may be ahead of storage.
      this.periodTotals.clear();
      throw err;
    }
    await this.scheduleFlush();
    return results;
  }

  /**
   * Admission for one isolate: accounts for the leases it reports as ended (their used tokens
   * become `api_calls`, unused ones go back to the windows and the quota), then grants up to
   * `want` admissions valid until the end of the current second. Every granted token is counted
   * in the request windows and reserved against a hard monthly quota at once, so budgets and
   * quotas are never exceeded however many isolates hold leases; API calls are counted when
   * reported, so they never count more than what ran.
   */
  async lease(tenantId: string, input: LeaseInput): Promise<LeaseResult> {
    this.bind(tenantId);
    const now = Date.now();
    // The hot path: no await unless the entitlements need re-reading.
    const cached = this.entitlements;
    const ents = cached && now < cached.until ? cached : await this.loadEntitlements();
    this.applyReports(ents, input.reports, now);
    this.expireLeases(now);
    const apiAccess = ents.value.features.api_access !== false;
    const budgets = ents.value.rateLimits;
    const checks: [string, string, RateLimit][] =
      input.cls === "essential" || input.cls === "refused"
        ? [[input.cls, input.cls === "essential" ? "essential" : "refusal", budgets[input.cls]]]
        : [["tenant", "tenant", budgets.tenant]];
    if (input.apiKeyId && (input.cls === "standard" || input.cls === "expensive")) {
      checks.push([`key:${input.apiKeyId}`, "API key", budgets.apiKey]);
    }
    if (input.cls === "expensive") checks.push(["expensive", "expensive-route", budgets.expensive]);
    let tokens = Math.max(1, Math.min(Math.floor(input.want), MAX_LEASE_TOKENS));
    let tightest: QuotaHeader | null = null;
    const hits: { key: string; start: number; limit: number; span: number }[] = [];
    for (const [name, label, budget] of checks) {
      for (const [span, limit] of [
        [1000, budget.perSecond],
        [60_000, budget.perMinute],
      ] as const) {
        const key = `${name}:${span}`;
        const start = now - (now % span);
        const window = this.windows.get(key);
        const count = window && window.start === start ? window.count : 0;
        if (count >= limit) {
          return {
            allowed: false,
            retryAfter: Math.max(1, Math.ceil((start + span - now) / 1000)),
            quota: { limit, remaining: 0, resetAt: start + span },
            reason: `${label} budget of ${limit} requests per ${span === 1000 ? "second" : "minute"}`,
            apiAccess,
          };
        }
        // At most half of what a second has left: concurrent renewals of isolates share it.
        tokens = Math.min(tokens, span === 1000 ? Math.ceil((limit - count) / 2) : limit - count);
        hits.push({ key, start, limit, span });
      }
    }
    // The monthly quota: granted tokens are reserved, so a hard quota is never overshot; a
    // lease takes at most a tenth of what is left, so one isolate cannot hold the rest.
    let reserve = false;
    let monthly: QuotaHeader | null = null;
    if (input.cls === "standard" || input.cls === "expensive") {
      const period = this.periodOf(now, ents.anchor);
      const used = this.periodTotal("api_calls", period.start) + this.reserved;
      // Requests are counted, never refused, for a read-only tenant: it may still read.
      const check = checkLimit({ ...ents.value, access: "full" }, "api_calls", used, 1);
      if (!check.allowed) {
        return {
          allowed: false,
          retryAfter: Math.max(1, Math.ceil((period.end - now) / 1000)),
          quota: { limit: check.value ?? 0, remaining: 0, resetAt: period.end },
          reason: `monthly quota of ${check.value} API calls`,
          apiAccess,
        };
      }
      if (check.value !== null && check.hard) {
        const left = check.value - used;
        tokens = Math.min(tokens, left, Math.max(1, Math.ceil(left / 10)));
        reserve = true;
      }
      if (check.value !== null) {
        monthly = {
          limit: check.value,
          remaining: Math.max(0, check.value - used - tokens),
          resetAt: period.end,
        };
      }
    }
    for (const hit of hits) {
      const window = this.windows.get(hit.key);
      const count = (window && window.start === hit.start ? window.count : 0) + tokens;
      this.windows.set(hit.key, { start: hit.start, count });
      const header = {
        limit: hit.limit,
        remaining: hit.limit - count,
        resetAt: hit.start + hit.span,
      };
      if (hit.span === 60_000 && (!tightest || header.remaining < tightest.remaining)) {
        tightest = header;
      }
    }
    if (monthly && (!tightest || monthly.remaining < tightest.remaining)) tightest = monthly;
    const id = crypto.randomUUID();
    const until = Math.min(now + LEASE_MS, now - (now % 1000) + 1000);
    if (reserve) this.reserved += tokens;
    this.outstanding.set(id, {
      tokens,
      until,
      windows: hits.map(({ key, start }) => ({ key, start })),
      reserved: reserve ? tokens : 0,
    });
    if (this.dirty && this.alarmScheduled !== true) await this.scheduleFlush();
    return { allowed: true, id, tokens, until, quota: tightest as QuotaHeader, apiAccess };
  }

  /** Reports ended leases without asking for a new one (an isolate going idle). */
  async report(tenantId: string, reports: LeaseReport[]): Promise<void> {
    this.bind(tenantId);
    const now = Date.now();
    const cached = this.entitlements;
    const ents = cached && now < cached.until ? cached : await this.loadEntitlements();
    this.applyReports(ents, reports, now);
    if (this.dirty && this.alarmScheduled !== true) await this.scheduleFlush();
  }

  /** Used tokens become API calls; unused ones go back to their windows and the quota. */
  private applyReports(
    ents: { value: Entitlements; anchor: number | null },
    reports: LeaseReport[],
    now: number,
  ) {
    let calls = 0;
    for (const report of reports) {
      const used = Math.max(0, Math.floor(report.used));
      const lease = this.outstanding.get(report.id);
      if (lease) {
        this.outstanding.delete(report.id);
        this.reserved -= lease.reserved;
        const unused = Math.max(0, lease.tokens - used);
        for (const { key, start } of lease.windows) {
          const window = this.windows.get(key);
          if (unused > 0 && window && window.start === start) {
            window.count = Math.max(0, window.count - unused);
          }
        }
      }
      if (report.counted) calls += lease ? Math.min(used, lease.tokens) : used;
    }
    if (calls > 0) this.count(ents, { metric: "api_calls", amount: calls }, now, true);
  }

  /** Leases whose isolate never reported them release their reservation. */
  private expireLeases(now: number) {
    for (const [id, lease] of this.outstanding) {
      if (lease.until + LEASE_GRACE_MS < now) {
        this.outstanding.delete(id);
        this.reserved -= lease.reserved;
      }
    }
  }

  /**
   * What the ledger may not have yet, for `GET /v1/usage`: deltas still pending (per hour), and
   * outbox rows sent in the last few minutes (the caller drops those the ledger already has).
   */
  async unflushedUsage(
    metric: LimitKey,
    from: number,
    to: number,
  ): Promise<{ window_start: number; delta: number; key: string | null }[]> {
    this.persistBuffered();
    return this.ctx.storage.sql
      .exec<{ window_start: number; delta: number; key: string | null }>(
        `SELECT window_start, used - flushed_used AS delta, NULL AS key FROM usage
           WHERE metric = ?1 AND window_start >= ?2 AND window_start < ?3 AND used != flushed_used
         UNION ALL
         SELECT window_start, delta, key FROM outbox
           WHERE metric = ?1 AND window_start >= ?2 AND window_start < ?3
             AND (sent_at IS NULL OR sent_at > ?4)`,
        metric,
        from,
        to,
        Date.now() - IN_FLIGHT_MS,
      )
      .toArray();
  }

  /** The meter's own totals per metric and period, for `npm run usage:reconcile`. */
  async totals(): Promise<
    { metric: string; period_start: number; period_end: number; used: number }[]
  > {
    this.persistBuffered();
    return this.ctx.storage.sql
      .exec<{ metric: string; period_start: number; period_end: number; used: number }>(
        `SELECT metric, period_start, period_end, SUM(used) AS used FROM usage
         GROUP BY metric, period_start ORDER BY metric, period_start`,
      )
      .toArray();
  }

  override async alarm(): Promise<void> {
    this.alarmScheduled = false;
    await this.flush();
  }

  /** Moves pending deltas into the outbox (one transaction) and sends unsent rows to the queue. */
  async flush(): Promise<void> {
    const tenantId = this.tenantId;
    if (!tenantId) return;
    this.persistBuffered();
    const now = Date.now();
    this.ctx.storage.transactionSync(() => {
      const sql = this.ctx.storage.sql;
      const rows = sql
        .exec<{
          metric: string;
          window_start: number;
          period_start: number;
          delta: number;
          billable: number;
        }>(
          `SELECT metric, window_start, period_start, used - flushed_used AS delta,
             billable - flushed_billable AS billable
           FROM usage WHERE used != flushed_used OR billable != flushed_billable
           ORDER BY metric, window_start`,
        )
        .toArray();
      for (const row of rows) {
        // The window's own period travels with it: the ledger and reconciliation must count the
        // row where the meter did, also where a calendar month and an anchored period overlap.
        const { seq } = sql
          .exec<{ seq: number }>(
            `INSERT INTO outbox (metric, window_start, period_start, delta, billable, key, created_at)
             VALUES (?, ?, ?, ?, ?, 'pending:' || hex(randomblob(8)), ?) RETURNING seq`,
            row.metric,
            row.window_start,
            row.period_start,
            row.delta,
            row.billable,
            now,
          )
          .one();
        // The key is fixed here, before the first send, and never changes on a retry.
        sql.exec(
          "UPDATE outbox SET key = ? WHERE seq = ?",
          `${tenantId}:${row.metric}:${seq}`,
          seq,
        );
        sql.exec(
          `UPDATE usage SET flushed_used = flushed_used + ?, flushed_billable = flushed_billable + ?
           WHERE metric = ? AND window_start = ?`,
          row.delta,
          row.billable,
          row.metric,
          row.window_start,
        );
      }
      sql.exec("DELETE FROM keys WHERE created_at < ?", now - KEY_RETENTION_MS);
      sql.exec(
        "DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < ?",
        now - OUTBOX_RETENTION_MS,
      );
    });
    const unsent = this.ctx.storage.sql
      .exec<{
        seq: number;
        metric: LimitKey;
        window_start: number;
        period_start: number | null;
        delta: number;
        billable: number;
        key: string;
      }>(
        `SELECT seq, metric, window_start, period_start, delta, billable, key FROM outbox
         WHERE sent_at IS NULL ORDER BY seq`,
      )
      .toArray();
    for (let i = 0; i < unsent.length; i += 100) {
      const chunk = unsent.slice(i, i + 100);
      // If this throws, the alarm is retried by the runtime and the rows are sent again with
      // the same keys; the consumer ignores what it already has.
      await this.env.USAGE_QUEUE.sendBatch(
        chunk.map((row) => ({
          body: {
            key: row.key,
            tenant_id: tenantId,
            metric: row.metric,
            window_start: row.window_start,
            period_start: row.period_start,
            seq: row.seq,
            delta: row.delta,
            billable: row.billable,
          } satisfies UsageMessage,
          contentType: "json" as const,
        })),
      );
      const sentAt = Date.now();
      for (const row of chunk) {
        this.ctx.storage.sql.exec("UPDATE outbox SET sent_at = ? WHERE seq = ?", sentAt, row.seq);
      }
    }
  }

  private bind(tenantId: string) {
    if (this.tenantId === tenantId) return;
    if (this.tenantId !== null) throw new Error(`meter of ${this.tenantId} asked for ${tenantId}`);
    this.tenantId = tenantId;
    this.ctx.storage.sql.exec(
      "INSERT OR IGNORE INTO meta (name, value) VALUES ('tenant_id', ?)",
      tenantId,
    );
  }

  private async loadEntitlements() {
    const now = Date.now();
    if (this.entitlements && now < this.entitlements.until) return this.entitlements;
    const tenantId = this.tenantId as string;
    const [value, billing] = await Promise.all([
      tenantEntitlements(this.env, tenantId, now),
      readBilling(this.env, tenantId),
    ]);
    const expiries = value.overrides
      .map((o) => o.expiresAt)
      .filter((t): t is number => typeof t === "number" && t > now);
    const live = billing?.status && !["canceled", "incomplete_expired"].includes(billing.status);
    this.entitlements = {
      value,
      anchor: live ? (billing?.current_period_end ?? null) : null,
      until: Math.min(now + ENTITLEMENTS_TTL_MS, ...expiries),
    };
    return this.entitlements;
  }

  /** The reserved unit's change was written: the database now counts it. */
  async settle(tenantId: string, key: string): Promise<void> {
    this.bind(tenantId);
    this.ctx.storage.sql.exec(
      "UPDATE reservations SET settled_at = ? WHERE key = ? AND settled_at IS NULL",
      Date.now(),
      key,
    );
  }

  /** The reserved unit's change did not happen: the unit goes back, once. */
  async cancel(tenantId: string, key: string): Promise<void> {
    this.bind(tenantId);
    this.ctx.storage.transactionSync(() => {
      const sql = this.ctx.storage.sql;
      const held = sql
        .exec<{ metric: string }>(
          "DELETE FROM reservations WHERE key = ? AND settled_at IS NULL RETURNING metric",
          key,
        )
        .toArray()[0];
      if (held) {
        sql.exec("UPDATE gauges SET value = MAX(value - 1, 0) WHERE metric = ?", held.metric);
      }
    });
  }

  /**
   * Re-derives every gauge from the tenant's database plus the reservations still pending, and
   * corrects (and reports) any drift. Runs on demand, and by itself when a gauge is used and was
   * last derived more than GAUGE_DERIVE_MS ago.
   */
  async reconcileGauges(tenantId: string): Promise<GaugeDrift[]> {
    this.bind(tenantId);
    const drift: GaugeDrift[] = [];
    for (const metric of GAUGES) {
      const corrected = await this.deriveGauge(metric);
      if (corrected) drift.push(corrected);
    }
    return drift;
  }

  private async deriveGaugeIfDue(metric: LimitKey) {
    const row = this.ctx.storage.sql
      .exec<{ value: string }>("SELECT value FROM meta WHERE name = ?", `derived:${metric}`)
      .toArray()[0];
    if (row && Date.now() - Number(row.value) < GAUGE_DERIVE_MS) return;
    await this.deriveGauge(metric);
  }

  /** What the tenant's database holds, plus units reserved for changes still on their way. */
  private async deriveGauge(metric: LimitKey): Promise<GaugeDrift | null> {
    const started = Date.now();
    const tenant = await findTenantById(this.env, this.tenantId as string);
    let stored = 0;
    if (tenant?.databaseBinding) {
      const table = metric === "seats" ? "members" : "projects";
      const row = await tenantDb(this.env, tenant)
        .d1.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE tenant_id = ?`)
        .bind(tenant.id)
        .first<{ n: number }>();
      stored = row?.n ?? 0;
    }
    // Synchronous from here: no other call runs until the gauge is written.
    const sql = this.ctx.storage.sql;
    const now = Date.now();
    return this.ctx.storage.transactionSync(() => {
      sql.exec(
        "DELETE FROM reservations WHERE (settled_at IS NULL AND created_at < ?) OR settled_at < ?",
        now - RESERVATION_TTL_MS,
        started,
      );
      // Pending ones, and those settled while the count was read (it may not include them).
      const { n } = sql
        .exec<{ n: number }>("SELECT COUNT(*) AS n FROM reservations WHERE metric = ?", metric)
        .one();
      const value = stored + n;
      const before = sql
        .exec<{ value: number }>("SELECT value FROM gauges WHERE metric = ?", metric)
        .toArray()[0]?.value;
      sql.exec(
        "INSERT INTO gauges (metric, value) VALUES (?1, ?2) ON CONFLICT (metric) DO UPDATE SET value = ?2",
        metric,
        value,
      );
      sql.exec(
        "INSERT INTO meta (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET value = ?2",
        `derived:${metric}`,
        String(now),
      );
      if (before === undefined || before === value) return null;
      console.warn(
        JSON.stringify({
          level: "warn",
          msg: "gauge drift corrected",
          tenant_id: this.tenantId,
          metric,
          from: before,
          to: value,
        }),
      );
      return { metric, from: before, to: value };
    });
  }

  /** One check-and-count; runs inside a storage transaction. */
  private count(
    ents: { value: Entitlements; anchor: number | null },
    input: ConsumeInput,
    now: number,
    /** Records without refusing: usage that already happened (reported API calls). */
    force = false,
  ): ConsumeResult {
    const sql = this.ctx.storage.sql;
    if (input.key) {
      const seen = sql
        .exec<{ result: string }>("SELECT result FROM keys WHERE key = ?", input.key)
        .toArray()[0];
      if (seen) return { ...(JSON.parse(seen.result) as ConsumeResult), duplicate: true };
    }
    const { metric, amount } = input;
    const at = input.at ?? now;
    // Requests are counted, never refused, for a read-only tenant: it may still read.
    const entitlements =
      metric === "api_calls" && ents.value.access === "read_only"
        ? { ...ents.value, access: "full" as const }
        : ents.value;
    const gauge = LIMIT_DEFINITIONS[metric].kind === "gauge";
    const period = gauge ? null : this.periodOf(at, ents.anchor);
    const used = gauge
      ? (sql.exec<{ value: number }>("SELECT value FROM gauges WHERE metric = ?", metric).one()
          .value ?? 0)
      : this.periodTotal(metric, period?.start ?? 0);
    const checked = checkLimit(entitlements, metric, used, amount);
    const check: typeof checked =
      force && !checked.allowed
        ? { ...checked, allowed: true, overage: checked.hard ? 0 : amount }
        : checked;
    const base = {
      metric,
      plan: entitlements.effectivePlan,
      limit: check.value,
      hard: check.hard,
      resets_at: period ? period.endIso : null,
    };
    let result: ConsumeResult;
    if (!check.allowed) {
      result = {
        ...base,
        allowed: false,
        used,
        remaining: check.remaining,
        overage: 0,
        reason: check.reason,
      };
    } else {
      const after = Math.max(0, used + amount);
      if (gauge) {
        sql.exec("UPDATE gauges SET value = ? WHERE metric = ?", after, metric);
        if (input.reserve && input.key && amount > 0) {
          sql.exec(
            "INSERT OR IGNORE INTO reservations (key, metric, created_at) VALUES (?, ?, ?)",
            input.key,
            metric,
            now,
          );
        }
      } else if (period) {
        const metered =
          isMeteredMetric(metric) && CATALOG.plans[entitlements.effectivePlan].metered[metric];
        const billable = metered ? billableUsage(check.value, used, after) : 0;
        const row: UsageRow = {
          metric,
          // An hour never straddles two periods (anchored periods start mid-hour), so the
          // ledger's windows add up to each period exactly.
          windowStart: Math.max(at - (at % HOUR), period.start),
          periodStart: period.start,
          periodEnd: period.end,
          used: amount,
          overage: check.overage,
          billable,
        };
        if (metric === "api_calls") this.buffer(row);
        else this.writeUsage(row);
        this.periodTotals.set(`${metric}:${period.start}`, used + amount);
        this.dirty = true;
      }
      result = {
        ...base,
        allowed: true,
        used: after,
        remaining: check.value === null ? null : Math.max(0, check.value - after),
        overage: check.overage,
      };
    }
    // Only what was counted is remembered: a refused call may succeed later (a raised limit).
    if (input.key && result.allowed) {
      sql.exec(
        "INSERT INTO keys (key, result, created_at) VALUES (?, ?, ?)",
        input.key,
        JSON.stringify(result),
        now,
      );
    }
    return result;
  }

  /** The period that contains `at`; the current one is kept, as nearly every call falls in it. */
  private periodOf(at: number, anchor: number | null) {
    const last = this.lastPeriod;
    if (last && last.anchor === anchor && at >= last.start && at < last.end) return last;
    const period = usagePeriod(at, anchor);
    this.lastPeriod = { ...period, anchor, endIso: new Date(period.end).toISOString() };
    return this.lastPeriod;
  }

  private writeUsage(row: UsageRow) {
    this.ctx.storage.sql.exec(
      `INSERT INTO usage (metric, window_start, period_start, period_end, used, overage, billable)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
       ON CONFLICT (metric, window_start) DO UPDATE SET used = used + ?5,
         overage = overage + ?6, billable = billable + ?7`,
      row.metric,
      row.windowStart,
      row.periodStart,
      row.periodEnd,
      row.used,
      row.overage,
      row.billable,
    );
  }

  /**
   * API calls, counted on every request, reach storage in groups at most CALLS_PERSIST_MS apart
   * (one write instead of one per request). The quota check reads the in-memory total, so it is
   * exact while the meter runs; a crash of the meter forgets at most that interval of API call
   * counts. Usage events and gauges are written before the call returns.
   */
  private buffer(row: UsageRow) {
    const key = `${row.metric}:${row.windowStart}`;
    const held = this.buffered.get(key);
    if (held) {
      held.used += row.used;
      held.overage += row.overage;
      held.billable += row.billable;
    } else {
      this.buffered.set(key, { ...row });
    }
    if (!this.persistTimer) {
      this.persistTimer = setTimeout(() => this.persistBuffered(), CALLS_PERSIST_MS);
    }
  }

  /** Writes the buffered API call counts (also before every read of stored usage). */
  private persistBuffered() {
    if (this.persistTimer) clearTimeout(this.persistTimer);
    this.persistTimer = null;
    if (this.buffered.size === 0) return;
    const rows = [...this.buffered.values()];
    this.buffered.clear();
    this.ctx.storage.transactionSync(() => {
      for (const row of rows) this.writeUsage(row);
    });
  }

  /** A counter's total for a period, read from storage once and then kept in memory. */
  private periodTotal(metric: LimitKey, periodStart: number): number {
    const key = `${metric}:${periodStart}`;
    let total = this.periodTotals.get(key);
    if (total === undefined) {
      total =
        this.ctx.storage.sql
          .exec<{ used: number | null }>(
            "SELECT SUM(used) AS used FROM usage WHERE metric = ? AND period_start = ?",
            metric,
            periodStart,
          )
          .one().used ?? 0;
      this.periodTotals.set(key, total);
    }
    return total;
  }

  private async scheduleFlush() {
    if (!this.dirty) return;
    this.dirty = false;
    if (this.alarmScheduled === null) {
      this.alarmScheduled = (await this.ctx.storage.getAlarm()) !== null;
    }
    if (this.alarmScheduled) return;
    const seconds = Number(this.env.METER_FLUSH_SECONDS ?? 60);
    await this.ctx.storage.setAlarm(Date.now() + seconds * 1000);
    this.alarmScheduled = true;
  }

  /**
   * The tenant was removed (reclaimed): its counters and unsent usage go with it. Tenant ids are
   * never reused, so nothing can address this object again.
   */
  async destroy(): Promise<void> {
    if (this.persistTimer) clearTimeout(this.persistTimer);
    this.persistTimer = null;
    this.buffered.clear();
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
  }
}
