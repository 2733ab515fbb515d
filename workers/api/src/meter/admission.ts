import {
  type AdmissionClass,
  countsAsApiCall,
  type LeaseReport,
  type LeaseResult,
  log,
  meterFor,
  type QuotaHeader,
} from "@tenantry/core";
import type { Env } from "../env";

/**
 * Admission of authenticated requests without a Durable Object round trip per request: each
 * isolate holds short leases of admissions from the tenant's meter (ADR 007) and takes from
 * them locally. The meter counts every granted token in the request windows and reserves it
 * against a hard monthly quota at once, so budgets and quotas hold across isolates; the isolate
 * reports what it used when a lease ends, which is what `api_calls` counts.
 *
 * These maps are per isolate. Losing them (an evicted isolate) loses at most the reports of its
 * live leases: `api_calls` then counts less than ran, never more, and the reservations lapse.
 */
interface Lease {
  id: string;
  left: number;
  used: number;
  tokens: number;
  until: number;
  quota: QuotaHeader;
  apiAccess: boolean;
  counted: boolean;
}

interface Slot {
  /** Live leases; several when concurrent requests renewed at once. */
  leases: Lease[];
  refusal: Extract<LeaseResult, { allowed: false }> | null;
  refusedUntil: number;
  /** How many admissions to ask for next: doubles while leases run out, shrinks when they don't. */
  want: number;
}

export type Admission =
  | { allowed: true; headers: Record<string, string>; apiAccess: boolean }
  | {
      allowed: false;
      headers: Record<string, string>;
      retryAfter: number;
      reason: string;
      apiAccess: boolean;
    };

/** A refusal is trusted locally this long at most, so a raised limit applies quickly. */
const REFUSAL_CACHE_MS = 1000;
const MAX_WANT = 1000;
const SLOT_LIMIT = 10_000;

const slots = new Map<string, Slot>();
/** Ended leases per tenant, not reported yet; sent with the next call to the tenant's meter. */
const ended = new Map<string, LeaseReport[]>();
/** Tenants with a report scheduled after their leases end. */
const reportScheduled = new Set<string>();

export interface AdmitRequest {
  tenantId: string;
  apiKeyId: string | null;
  cls: AdmissionClass;
  waitUntil: (p: Promise<unknown>) => void;
}

function headersOf(quota: QuotaHeader, left: number, now: number): Record<string, string> {
  return {
    "RateLimit-Limit": String(quota.limit),
    "RateLimit-Remaining": String(Math.max(0, quota.remaining + left)),
    "RateLimit-Reset": String(Math.max(1, Math.ceil((quota.resetAt - now) / 1000))),
  };
}

function endLease(tenantId: string, lease: Lease) {
  const reports = ended.get(tenantId) ?? [];
  reports.push({ id: lease.id, used: lease.used, counted: lease.counted });
  ended.set(tenantId, reports);
}

function takeReports(tenantId: string): LeaseReport[] {
  const reports = ended.get(tenantId) ?? [];
  ended.delete(tenantId);
  return reports;
}

export async function admit(env: Env, req: AdmitRequest): Promise<Admission> {
  const key = `${req.tenantId}|${req.cls}|${req.apiKeyId ?? ""}`;
  let slot = slots.get(key);
  if (!slot) {
    if (slots.size >= SLOT_LIMIT) await flushAdmissions(env);
    slot = { leases: [], refusal: null, refusedUntil: 0, want: 1 };
    slots.set(key, slot);
  }
  const now = Date.now();
  endLapsed(req.tenantId, slot, now);
  const held = takeFrom(slot, now);
  if (held) return held;
  const refusal = slot.refusal;
  if (refusal && slot.refusedUntil > now) {
    return {
      allowed: false,
      headers: headersOf(refusal.quota, 0, now),
      retryAfter: refusal.retryAfter,
      reason: refusal.reason,
      apiAccess: refusal.apiAccess,
    };
  }
  // Every request that finds no admission asks the meter itself: a request never waits on
  // another request's call (workerd forbids sharing I/O between requests), and concurrent
  // renewals simply leave several leases to take from.
  const result = await meterFor(env.TENANT_METER, req.tenantId).lease(req.tenantId, {
    cls: req.cls,
    apiKeyId: req.apiKeyId,
    want: slot.want,
    reports: takeReports(req.tenantId),
  });
  const at = Date.now();
  if (!result.allowed) {
    // A concurrent renewal may have taken what was left into a lease of this isolate.
    const granted = takeFrom(slot, at);
    if (granted) return granted;
    slot.refusal = result;
    slot.refusedUntil = at + Math.min(REFUSAL_CACHE_MS, result.retryAfter * 1000);
    return {
      allowed: false,
      headers: headersOf(result.quota, 0, at),
      retryAfter: result.retryAfter,
      reason: result.reason,
      apiAccess: result.apiAccess,
    };
  }
  slot.refusal = null;
  const lease: Lease = {
    id: result.id,
    left: result.tokens - 1,
    used: 1,
    tokens: result.tokens,
    until: result.until,
    quota: result.quota,
    apiAccess: result.apiAccess,
    counted: countsAsApiCall(req.cls),
  };
  slot.leases.push(lease);
  scheduleReport(env, req, result.until - at);
  return {
    allowed: true,
    headers: headersOf(lease.quota, lease.left, at),
    apiAccess: lease.apiAccess,
  };
}

/** One admission from a live lease of the slot, if any is left. */
function takeFrom(slot: Slot, now: number): Admission | null {
  for (const lease of slot.leases) {
    if (lease.until > now && lease.left > 0) {
      lease.left--;
      lease.used++;
      return {
        allowed: true,
        headers: headersOf(lease.quota, lease.left, now),
        apiAccess: lease.apiAccess,
      };
    }
  }
  return null;
}

/**
 * Ends the slot's lapsed or used-up leases (reported with the next meter call) and adapts how
 * much to ask for next.
 */
function endLapsed(tenantId: string, slot: Slot, now: number) {
  if (slot.leases.length === 0) return;
  const live: Lease[] = [];
  for (const lease of slot.leases) {
    if (lease.until > now && lease.left > 0) {
      live.push(lease);
      continue;
    }
    endLease(tenantId, lease);
    slot.want =
      lease.left === 0
        ? Math.min(MAX_WANT, Math.max(slot.want, lease.tokens * 2))
        : Math.max(1, Math.min(slot.want, lease.used + 1));
  }
  slot.leases = live;
}

/**
 * After a tenant's leases end, reports their use to the meter unless a newer call carried the
 * reports already, so an isolate that goes quiet still gets its API calls counted.
 */
function scheduleReport(env: Env, req: AdmitRequest, delayMs: number) {
  if (reportScheduled.has(req.tenantId)) return;
  reportScheduled.add(req.tenantId);
  req.waitUntil(
    (async () => {
      await new Promise((r) => setTimeout(r, Math.max(0, delayMs) + 20));
      reportScheduled.delete(req.tenantId);
      await reportTenant(env, req.tenantId, Date.now());
    })().catch((err: unknown) => {
      log.forTenant(req.tenantId).warn("lease report failed; those API calls are not counted", {
        error: String(err),
      });
    }),
  );
}

/** Ends this isolate's leases of a tenant that have lapsed (all of them with `now = Infinity`). */
async function reportTenant(env: Env, tenantId: string, now: number) {
  for (const [key, slot] of slots) {
    if (!key.startsWith(`${tenantId}|`)) continue;
    const live: Lease[] = [];
    for (const lease of slot.leases) {
      if (lease.until <= now) endLease(tenantId, lease);
      else live.push(lease);
    }
    slot.leases = live;
  }
  const reports = takeReports(tenantId);
  if (reports.length > 0) await meterFor(env.TENANT_METER, tenantId).report(tenantId, reports);
}

/**
 * Reports every lease of this isolate now (before a reconciliation reads the meters, and when the
 * slot table is full), so the meters count what this isolate admitted.
 */
export async function flushAdmissions(env: Env): Promise<void> {
  const tenants = new Set([...slots.keys()].map((k) => k.split("|")[0] as string));
  for (const tenantId of ended.keys()) tenants.add(tenantId);
  for (const tenantId of tenants) await reportTenant(env, tenantId, Number.POSITIVE_INFINITY);
  for (const [key, slot] of slots) if (slot.leases.length === 0) slots.delete(key);
}
