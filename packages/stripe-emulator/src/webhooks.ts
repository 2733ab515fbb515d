import { newId } from "./random.js";
import type { EmulatorState, ResolvedConfig, WebhookEndpointRecord } from "./state.js";
import type { WireEvent } from "./wire.js";

export interface DeliveryAttempt {
  deliveryId: string;
  eventId: string;
  eventType: string;
  endpointId: string;
  url: string;
  /** 1 for the first attempt; drops do not count. */
  attempt: number;
  /** HTTP status, or null when the attempt was dropped or the request failed. */
  status: number | null;
  ok: boolean;
  dropped: boolean;
  duplicate: boolean;
  error?: string;
}

export interface DeliveryReport {
  attempts: number;
  delivered: number;
  /** Deliveries that exhausted their attempts. */
  failed: number;
  dropped: number;
}

export interface DispatcherSnapshot {
  queue: QueuedDelivery[];
  pending: [string, string[]][];
}

interface QueuedDelivery {
  id: string;
  eventId: string;
  endpointId: string;
  attempts: number;
  dueAt: number;
  dropFirst: boolean;
  duplicate: boolean;
  seq: number;
}

const encoder = new TextEncoder();

function hex(buffer: ArrayBuffer): string {
  return [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * `Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256("<t>.<body>", endpoint secret)>`
 * (https://docs.stripe.com/webhooks#verify-manually).
 */
export async function signPayload(
  secret: string,
  payload: string,
  timestamp: number,
): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign("HMAC", key, encoder.encode(`${timestamp}.${payload}`));
  return `t=${timestamp},v1=${hex(mac)}`;
}

function subscribes(record: WebhookEndpointRecord, type: string): boolean {
  if (record.endpoint.status !== "enabled") return false;
  return record.endpoint.enabled_events.some(
    (pattern) =>
      pattern === "*" ||
      pattern === type ||
      (pattern.endsWith(".*") && type.startsWith(pattern.slice(0, -1))),
  );
}

/**
 * The delivery queue. Every event is fanned out to the endpoints subscribed to it. Chaos
 * (duplicates, reordering, delay, drop-then-redeliver) is decided from the seeded random source
 * when the event is queued, so a seed reproduces a run. In-process, nothing is sent until
 * `deliverPending()`, which drains the queue in due order on a virtual clock (backoff costs no
 * real time); with `autoDeliver` the same queue is pumped by timers in real time.
 */
export class WebhookDispatcher {
  readonly log: DeliveryAttempt[] = [];
  private readonly queue: QueuedDelivery[] = [];
  private readonly pending = new Map<string, Set<string>>();
  private virtualNow = 0;
  private seq = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private closed = false;

  constructor(
    private readonly getState: () => EmulatorState,
    private readonly config: ResolvedConfig,
    public random: () => number,
  ) {}

  private clock(): number {
    return this.config.webhooks.autoDeliver ? this.config.now() : this.virtualNow;
  }

  private delay(): number {
    const { delayMs } = this.config.chaos;
    if (Array.isArray(delayMs)) return delayMs[0] + this.random() * (delayMs[1] - delayMs[0]);
    return delayMs;
  }

  enqueue(event: WireEvent): void {
    const state = this.getState();
    const targets = [...state.webhookEndpoints.values()].filter((r) => subscribes(r, event.type));
    if (targets.length === 0) return;
    this.pending.set(event.id, new Set(targets.map((t) => t.endpoint.id)));
    event.pending_webhooks = targets.length;
    const { chaos } = this.config;
    for (const target of targets) {
      const copies = chaos.duplicateRate > 0 && this.random() < chaos.duplicateRate ? 2 : 1;
      for (let copy = 0; copy < copies; copy++) {
        const jitter = chaos.reorderWindowMs > 0 ? this.random() * chaos.reorderWindowMs : 0;
        this.queue.push({
          id: newId("whdl_", 16),
          eventId: event.id,
          endpointId: target.endpoint.id,
          attempts: 0,
          dueAt: this.clock() + this.delay() + jitter,
          dropFirst: chaos.dropRate > 0 && this.random() < chaos.dropRate,
          duplicate: copy > 0,
          seq: this.seq++,
        });
      }
    }
    this.schedule();
  }

  pendingCount(): number {
    return this.queue.length;
  }

  private takeNext(onlyDue: boolean): QueuedDelivery | undefined {
    let best = -1;
    for (let i = 0; i < this.queue.length; i++) {
      const d = this.queue[i] as QueuedDelivery;
      const b = this.queue[best];
      if (!b || d.dueAt < b.dueAt || (d.dueAt === b.dueAt && d.seq < b.seq)) best = i;
    }
    const next = this.queue[best];
    if (!next || (onlyDue && next.dueAt > this.config.now())) return undefined;
    this.queue.splice(best, 1);
    return next;
  }

  private async run(onlyDue: boolean, report: DeliveryReport): Promise<void> {
    for (let guard = 0; guard < 1_000_000; guard++) {
      const next = this.takeNext(onlyDue);
      if (!next) return;
      if (!this.config.webhooks.autoDeliver)
        this.virtualNow = Math.max(this.virtualNow, next.dueAt);
      await this.attempt(next, report);
    }
  }

  /** Drains the queue, retries included, ignoring wait times. Resolves when it is empty. */
  deliverPending(): Promise<DeliveryReport> {
    const report: DeliveryReport = { attempts: 0, delivered: 0, failed: 0, dropped: 0 };
    const work = this.chain.then(() => this.run(false, report));
    this.chain = work.catch(() => undefined);
    return work.then(() => report);
  }

  private schedule(): void {
    if (!this.config.webhooks.autoDeliver || this.closed) return;
    let earliest = Number.POSITIVE_INFINITY;
    for (const d of this.queue) earliest = Math.min(earliest, d.dueAt);
    if (earliest === Number.POSITIVE_INFINITY || earliest >= this.timerAt) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerAt = earliest;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.timerAt = Number.POSITIVE_INFINITY;
        const report: DeliveryReport = { attempts: 0, delivered: 0, failed: 0, dropped: 0 };
        this.chain = this.chain
          .then(() => this.run(true, report))
          // Failed deliveries are retried by run(); anything else is a bug worth seeing.
          .catch((error: unknown) => console.error("stripe-emulator: webhook delivery", error))
          .then(() => this.schedule());
      },
      Math.max(0, earliest - this.config.now()),
    );
  }

  private retry(delivery: QueuedDelivery): void {
    const { initialDelayMs, multiplier } = this.config.webhooks;
    const wait = initialDelayMs * multiplier ** Math.max(0, delivery.attempts - 1);
    this.queue.push({ ...delivery, dueAt: this.clock() + wait, seq: this.seq++ });
  }

  private async attempt(delivery: QueuedDelivery, report: DeliveryReport): Promise<void> {
    const state = this.getState();
    const event = state.events.get(delivery.eventId);
    const record = state.webhookEndpoints.get(delivery.endpointId);
    if (!event || !record) return;
    const base = {
      deliveryId: delivery.id,
      eventId: event.id,
      eventType: event.type,
      endpointId: record.endpoint.id,
      url: record.endpoint.url,
      duplicate: delivery.duplicate,
    };
    if (delivery.dropFirst) {
      report.dropped++;
      this.log.push({
        ...base,
        attempt: delivery.attempts,
        status: null,
        ok: false,
        dropped: true,
      });
      this.retry({ ...delivery, dropFirst: false });
      return;
    }
    delivery.attempts++;
    report.attempts++;
    const payload = JSON.stringify({ ...event, api_version: record.endpoint.api_version }, null, 2);
    // Signed with the wall clock (not the emulator's advanced clock): receivers check the
    // timestamp against their own clock with a 300 s tolerance.
    const signature = await signPayload(
      record.secret,
      payload,
      Math.floor(this.config.now() / 1000),
    );
    let status: number | null = null;
    let error: string | undefined;
    try {
      const response = await this.post(record.endpoint.url, payload, signature);
      status = response.status;
      await response.body?.cancel().catch(() => undefined);
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
    }
    const ok = status !== null && status >= 200 && status < 300;
    this.log.push({ ...base, attempt: delivery.attempts, status, ok, dropped: false, error });
    this.config.onChange();
    if (ok) {
      report.delivered++;
      const endpoints = this.pending.get(event.id);
      endpoints?.delete(record.endpoint.id);
      event.pending_webhooks = endpoints?.size ?? 0;
      return;
    }
    if (delivery.attempts < this.config.webhooks.maxAttempts) this.retry(delivery);
    else report.failed++;
  }

  private async post(url: string, body: string, signature: string): Promise<Response> {
    const { timeoutMs } = this.config.webhooks;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([
        this.config.webhooks.fetch(url, {
          method: "POST",
          headers: {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": signature,
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            "Cache-Control": "no-cache",
          },
          body,
        }),
        timeout,
      ]);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }

  snapshot(): DispatcherSnapshot {
    return {
      queue: structuredClone(this.queue),
      pending: [...this.pending].map(([event, endpoints]) => [event, [...endpoints]]),
    };
  }

  /** Queued deliveries of a saved state: due ones go out now, nothing is queued twice. */
  restore(snapshot: DispatcherSnapshot): void {
    this.reset();
    for (const delivery of snapshot.queue) this.queue.push({ ...delivery, seq: this.seq++ });
    for (const [event, endpoints] of snapshot.pending) this.pending.set(event, new Set(endpoints));
    this.schedule();
  }

  reset(): void {
    this.queue.length = 0;
    this.pending.clear();
    this.log.length = 0;
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
  }
}
