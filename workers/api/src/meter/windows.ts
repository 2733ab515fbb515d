import type { LeaseInput, LeaseReport, LeaseResult, QuotaHeader } from "@tenantry/core";
import { checkLimit, type RateLimit } from "@tenantry/plans";
import type { Counters } from "./counters";
import type { MeterEntitlements } from "./sources";

/** A lease lasts at most this long and never past the end of the current second. */
const LEASE_MS = 1000;
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

/**
 * Request budgets and the leases that draw on them (ADR 007). Budgets are fixed windows in
 * memory (a restart forgives at most one window); granted tokens are counted in them at once,
 * and reserved against a hard monthly `api_calls` quota until their lease is reported.
 */
export class RequestWindows {
  private readonly windows = new Map<string, { start: number; count: number }>();
  /** Leases granted to isolates and not reported yet. */
  private readonly outstanding = new Map<string, Outstanding>();
  /** Their tokens reserved against a hard monthly `api_calls` quota. */
  private reserved = 0;

  constructor(private readonly counters: Counters) {}

  /** Grants up to `input.want` admissions, or says which budget refuses. Synchronous. */
  grant(ents: MeterEntitlements, input: LeaseInput, now: number): LeaseResult {
    this.expireLeases(now);
    const apiAccess = ents.value.features.api_access !== false;
    const budgets = ents.value.rateLimits;
    const checks: [string, string, RateLimit][] =
      input.cls === "essential" || input.cls === "refused"
        ? [[input.cls, input.cls === "essential" ? "essential" : "refusal", budgets[input.cls]]]
        : input.cls === "app"
          ? // The tenant app's pages: the tenant's budget in a window of their own (ADR 022).
            [["app", "app", budgets.tenant]]
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
      const period = this.counters.periodOf(now, ents.anchor);
      const used = this.counters.periodTotal("api_calls", period.start) + this.reserved;
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
    return { allowed: true, id, tokens, until, quota: tightest as QuotaHeader, apiAccess };
  }

  /** Used tokens become API calls; unused ones go back to their windows and the quota. */
  applyReports(ents: MeterEntitlements, reports: LeaseReport[], now: number) {
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
    if (calls > 0) this.counters.count(ents, { metric: "api_calls", amount: calls }, now, true);
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
}
