import { DurableObject } from "cloudflare:workers";
import type {
  ConsumeInput,
  ConsumeResult,
  GaugeDrift,
  LeaseInput,
  LeaseReport,
  LeaseResult,
  MeterTotal,
  TenantMeterRpc,
  UnflushedUsage,
} from "@tenantry/core";
import type { LimitKey } from "@tenantry/plans";
import type { Env } from "../env";
import { meterSources } from "../meter-sources";
import { Counters } from "./counters";
import { EntitlementsCache } from "./entitlements";
import { Gauges, isGauge } from "./gauges";
import { Outbox } from "./outbox";
import { bindMeterTenant, setUpMeterStorage } from "./schema";
import type { UsageNoticeSink } from "./thresholds";
import { Thresholds } from "./thresholds";
import { RequestWindows } from "./windows";

/**
 * The exact authority for one tenant's quotas and usage (one object per tenant, addressed by its
 * id, SQLite storage). Every check-and-count runs in one synchronous storage transaction, so
 * concurrent calls never both take the last unit. Counters reset monthly, aligned to the billing
 * anchor when there is one; gauges (seats, the product's) are totals. An alarm moves pending
 * deltas into an outbox and sends them to the USAGE queue. This class binds the tenant and wires
 * the parts: `windows.ts` (budgets, leases), `counters.ts`, `gauges.ts`, `outbox.ts`.
 */
export class TenantMeter extends DurableObject<Env> implements TenantMeterRpc {
  private tenantId: string | null = null;
  private readonly entitlements: EntitlementsCache;
  private readonly gauges: Gauges;
  private readonly counters: Counters;
  private readonly windows: RequestWindows;
  private readonly outbox: Outbox;
  private readonly thresholds: Thresholds;
  private readonly notices: UsageNoticeSink;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const sources = meterSources(env);
    this.entitlements = new EntitlementsCache(sources.entitlements);
    this.gauges = new Gauges(ctx.storage, sources.gauges);
    this.thresholds = new Thresholds(ctx.storage);
    this.notices = sources.notices;
    this.counters = new Counters(ctx.storage, this.gauges, this.thresholds);
    this.windows = new RequestWindows(this.counters);
    this.outbox = new Outbox(
      ctx.storage,
      this.counters,
      env.USAGE_QUEUE,
      Number(env.METER_FLUSH_SECONDS ?? 60),
    );
    ctx.blockConcurrencyWhile(async () => {
      this.tenantId = setUpMeterStorage(ctx.storage.sql);
    });
  }

  async refresh(tenantId: string): Promise<void> {
    this.bind(tenantId);
    this.entitlements.forget();
    await this.entitlements.load(tenantId);
  }

  async consume(tenantId: string, input: ConsumeInput): Promise<ConsumeResult> {
    return (await this.consumeMany(tenantId, [input]))[0] as ConsumeResult;
  }

  async consumeMany(tenantId: string, inputs: ConsumeInput[]): Promise<ConsumeResult[]> {
    this.bind(tenantId);
    const ents = await this.entitlements.load(tenantId);
    for (const metric of new Set(inputs.map((i) => i.metric))) {
      if (isGauge(metric)) await this.gauges.deriveIfDue(tenantId, metric);
    }
    const results = this.counters.countMany(ents, inputs, Date.now());
    await this.outbox.schedule();
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
    const ents = this.entitlements.fresh(now) ?? (await this.entitlements.load(tenantId));
    this.windows.applyReports(ents, input.reports, now);
    const result = this.windows.grant(ents, input, now);
    if (result.allowed && this.outbox.pending) await this.outbox.schedule();
    return result;
  }

  async report(tenantId: string, reports: LeaseReport[]): Promise<void> {
    this.bind(tenantId);
    const now = Date.now();
    const ents = this.entitlements.fresh(now) ?? (await this.entitlements.load(tenantId));
    this.windows.applyReports(ents, reports, now);
    if (this.outbox.pending) await this.outbox.schedule();
  }

  async settle(tenantId: string, key: string): Promise<void> {
    this.bind(tenantId);
    this.gauges.settle(key);
  }

  async cancel(tenantId: string, key: string): Promise<void> {
    this.bind(tenantId);
    this.gauges.cancel(key);
  }

  /**
   * Re-derives every gauge from the tenant's database plus the reservations still pending, and
   * corrects (and reports) any drift. Runs on demand, and by itself when a gauge is used and was
   * last derived long enough ago.
   */
  async reconcileGauges(tenantId: string): Promise<GaugeDrift[]> {
    this.bind(tenantId);
    return this.gauges.reconcile(tenantId);
  }

  async unflushedUsage(metric: LimitKey, from: number, to: number): Promise<UnflushedUsage[]> {
    return this.outbox.unflushed(metric, from, to);
  }

  async totals(): Promise<MeterTotal[]> {
    return this.outbox.totals();
  }

  override async alarm(): Promise<void> {
    this.outbox.alarmFired();
    await this.flush();
  }

  /**
   * Sends pending usage to the queue, then tells the tenant of quota thresholds crossed. A
   * failure throws, so the alarm is retried; both steps are idempotent.
   */
  async flush(): Promise<void> {
    if (!this.tenantId) return;
    await this.outbox.flush(this.tenantId);
    await this.thresholds.deliver(this.tenantId, this.notices);
  }

  /**
   * The tenant was removed (reclaimed): its counters and unsent usage go with it. Tenant ids are
   * never reused, so nothing can address this object again.
   */
  async destroy(): Promise<void> {
    this.counters.discardBuffered();
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
  }

  private bind(tenantId: string) {
    if (this.tenantId === tenantId) return;
    if (this.tenantId !== null) throw new Error(`meter of ${this.tenantId} asked for ${tenantId}`);
    this.tenantId = tenantId;
    bindMeterTenant(this.ctx.storage.sql, tenantId);
  }
}
