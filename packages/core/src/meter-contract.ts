import type { LimitKey, PlanId } from "@tenantry/plans";

// The tenant meter's RPC contract (ADR 005, 007). The Durable Object is the API worker's
// (`workers/api/src/meter/tenant-meter.ts`, which `implements` this); every worker that talks to
// a meter types its binding and addresses it through this module, so a changed method or result
// fails the typecheck everywhere it is called.

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
 * `app` requests are the tenant app's pages calling the API for a signed-in person (ADR 022):
 * a budget of the tenant's size of their own, so API clients and people never starve each other,
 * and never `api_calls`: people using the product are not API usage, and are not billed as such.
 */
export const ADMISSION_CLASSES = ["standard", "expensive", "essential", "refused", "app"] as const;
export type AdmissionClass = (typeof ADMISSION_CLASSES)[number];

/** Whether a class's admitted requests are counted as `api_calls` (what ran, when reported). */
export function countsAsApiCall(cls: AdmissionClass): boolean {
  return cls !== "refused" && cls !== "app";
}

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

/** Usage the ledger may not have yet: a pending delta (no key) or a recently sent outbox row. */
export interface UnflushedUsage {
  window_start: number;
  delta: number;
  key: string | null;
}

/** The meter's own total of one metric in one period. */
export interface MeterTotal {
  metric: string;
  period_start: number;
  period_end: number;
  used: number;
}

/** The methods a tenant's meter answers over RPC. */
export interface TenantMeterRpc {
  /** Re-reads the tenant's entitlements (plan, billing state, overrides) at once. */
  refresh(tenantId: string): Promise<void>;
  consume(tenantId: string, input: ConsumeInput): Promise<ConsumeResult>;
  /** Several checks-and-counts, each on its own (a refused one does not stop the others). */
  consumeMany(tenantId: string, inputs: ConsumeInput[]): Promise<ConsumeResult[]>;
  /** Accounts for the reported leases, then grants admissions (ADR 007). */
  lease(tenantId: string, input: LeaseInput): Promise<LeaseResult>;
  /** Reports ended leases without asking for a new one (an isolate going idle). */
  report(tenantId: string, reports: LeaseReport[]): Promise<void>;
  /** The reserved unit's change was written: the database now counts it. */
  settle(tenantId: string, key: string): Promise<void>;
  /** The reserved unit's change did not happen: the unit goes back, once. */
  cancel(tenantId: string, key: string): Promise<void>;
  /** Re-derives every gauge from the tenant's database and reports what drifted. */
  reconcileGauges(tenantId: string): Promise<GaugeDrift[]>;
  /** What the ledger may not have yet, for `GET /v1/usage`. */
  unflushedUsage(metric: LimitKey, from: number, to: number): Promise<UnflushedUsage[]>;
  /** Totals per metric and period, for `npm run usage:reconcile`. */
  totals(): Promise<MeterTotal[]>;
  /** Moves pending usage into the outbox and sends unsent rows to the USAGE queue. */
  flush(): Promise<void>;
  /** The tenant was removed: its counters and unsent usage go with it. */
  destroy(): Promise<void>;
}

/** The Durable Object class behind the contract, as a binding's type parameter. */
export type TenantMeterObject = TenantMeterRpc & Rpc.DurableObjectBranded;

/** A worker's `TENANT_METER` binding (the API worker's own class, or bound by `script_name`). */
export type MeterNamespace = DurableObjectNamespace<TenantMeterObject>;

/** The tenant's meter: one Durable Object per tenant, named by the tenant id. */
export function meterFor(namespace: MeterNamespace, tenantId: string) {
  return namespace.getByName(tenantId);
}
