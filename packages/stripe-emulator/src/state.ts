import type { FormObject } from "./form.js";
import type { EmulatorSnapshot } from "./persistence.js";
import { ID_PREFIX, newId } from "./random.js";
import type {
  JsonObject,
  Stripe,
  WireCheckoutSession,
  WireCustomer,
  WireEvent,
  WireInvoice,
  WireMeter,
  WirePaymentMethod,
  WirePortalSession,
  WirePrice,
  WireProduct,
  WireSubscription,
  WireSubscriptionItem,
  WireTestClock,
  WireWebhookEndpoint,
} from "./wire.js";

export const DEFAULT_API_VERSION = "2026-10-28.endive";

export type PaymentOutcome = "succeed" | "fail";
export type DunningFinalAction = "cancel" | "unpaid" | "past_due";
export type ProrationBehavior = "create_prorations" | "none" | "always_invoice";

export interface ChaosOptions {
  /** Probability (0–1) that an event is delivered twice to an endpoint. */
  duplicateRate: number;
  /** Each delivery is scheduled at a random offset in [0, reorderWindowMs): events overtake each other. */
  reorderWindowMs: number;
  /** Extra delay added to every delivery: a number or a [min, max] range. */
  delayMs: number | [number, number];
  /** Probability (0–1) that the first attempt is silently dropped and redelivered on the retry schedule. */
  dropRate: number;
}

export interface WebhookOptions {
  /** Deliver on timers (standalone server). Off by default in-process: call `deliverPending()`. */
  autoDeliver: boolean;
  /** Used to POST deliveries; defaults to the global `fetch`. */
  fetch: (input: string, init: RequestInit) => Promise<Response>;
  /** First attempt included. Stripe retries test-mode events three times (https://docs.stripe.com/webhooks#retries). */
  maxAttempts: number;
  /** Compressed backoff: attempt n waits initialDelayMs * multiplier^(n-1) after attempt n. */
  initialDelayMs: number;
  multiplier: number;
  timeoutMs: number;
}

export interface DunningOptions {
  /** Days after the previous failed attempt at which the renewal invoice is retried. */
  retryDays: number[];
  /** What happens to the subscription when the last retry fails. */
  finalAction: DunningFinalAction;
}

export interface PortalOptions {
  prorationBehavior: ProrationBehavior;
  cancelMode: "at_period_end" | "immediately";
}

export interface StripeEmulatorOptions {
  /** Wall clock in milliseconds (default `Date.now`). Emulator time = wall clock + `advanceClock` offset. */
  now?: () => number;
  /** Public origin for hosted pages (`/checkout/…`, `/portal/…`); default: the request's origin. */
  baseUrl?: string;
  /** Seed for the chaos random source. */
  seed?: number;
  chaos?: Partial<ChaosOptions>;
  webhooks?: Partial<WebhookOptions>;
  dunning?: Partial<DunningOptions>;
  portal?: Partial<PortalOptions>;
  /**
   * Stripe leaves a subscription `incomplete` when the customer has no payment method. The
   * emulator treats customers without one as having a working test card unless this is true.
   */
  requirePaymentMethod?: boolean;
  /** Starts from a saved state (`emulator.snapshot()`) instead of an empty one. */
  snapshot?: EmulatorSnapshot;
  /**
   * Called after anything that may have changed the state (API and hosted-page requests,
   * controls, webhook attempts); the standalone server debounces a save on it.
   */
  onChange?: () => void;
}

export interface ResolvedConfig {
  now: () => number;
  baseUrl: string | undefined;
  chaos: ChaosOptions;
  webhooks: WebhookOptions;
  dunning: DunningOptions;
  portal: PortalOptions;
  requirePaymentMethod: boolean;
  onChange: () => void;
}

export function resolveConfig(options: StripeEmulatorOptions): ResolvedConfig {
  return {
    now: options.now ?? (() => Date.now()),
    baseUrl: options.baseUrl?.replace(/\/$/, ""),
    chaos: { duplicateRate: 0, reorderWindowMs: 0, delayMs: 0, dropRate: 0, ...options.chaos },
    webhooks: {
      autoDeliver: false,
      fetch: (input, init) => fetch(input, init),
      maxAttempts: 4,
      initialDelayMs: 50,
      multiplier: 4,
      timeoutMs: 10_000,
      ...options.webhooks,
    },
    dunning: { retryDays: [3, 5, 7], finalAction: "cancel", ...options.dunning },
    portal: {
      prorationBehavior: "create_prorations",
      cancelMode: "at_period_end",
      ...options.portal,
    },
    requirePaymentMethod: options.requirePaymentMethod ?? false,
    onChange: options.onChange ?? (() => undefined),
  };
}

export type SubscriptionRecord = Omit<WireSubscription, "items">;
export type ItemRecord = Omit<WireSubscriptionItem, "price" | "plan"> & { price: string };

export interface SubscriptionInternal {
  /** Incomplete subscriptions expire 23 hours after creation (https://docs.stripe.com/billing/subscriptions/overview#payment-window). */
  incompleteExpiresAt: number | null;
  trialWillEndSentFor: number | null;
}

/** An invoice item: pending until `invoice` is set by the invoice that picked it up. */
export interface InvoiceItemRecord {
  id: string;
  customer: string;
  /** Prorations belong to a subscription; API-created items to the customer's next invoice. */
  subscription: string | null;
  subscriptionItem: string | null;
  price: string | null;
  amount: number;
  currency: string;
  description: string;
  period: { start: number; end: number };
  proration: boolean;
  quantity: number;
  invoice: string | null;
  created?: number;
  metadata?: Record<string, string>;
}

export interface CheckoutRecord {
  session: WireCheckoutSession;
  lineItems: { id: string; price: string; quantity: number }[];
  subscriptionData: {
    metadata: Record<string, string>;
    trialPeriodDays: number | undefined;
    trialEnd: number | undefined;
    description: string | undefined;
  };
  declineMessage: string | null;
}

export interface StoredMeterEvent {
  identifier: string;
  eventName: string;
  customer: string | null;
  value: number;
  timestamp: number;
  created: number;
  /** Emulator time (seconds) at which the identifier was recorded, for the 24 h window. */
  receivedAt: number;
  payload: Record<string, string>;
}

export interface WebhookEndpointRecord {
  endpoint: WireWebhookEndpoint;
  secret: string;
}

export interface RequestInfo {
  id: string;
  idempotency_key: string | null;
}

export interface IdempotencyRecord {
  method: string;
  path: string;
  params: string;
  status: number;
  body: string;
  requestId: string;
  createdAt: number;
}

export type EventListener = (event: WireEvent) => void;

export class EmulatorState {
  readonly config: ResolvedConfig;
  readonly customers = new Map<string, WireCustomer>();
  readonly products = new Map<string, WireProduct>();
  readonly prices = new Map<string, WirePrice>();
  readonly subscriptions = new Map<string, SubscriptionRecord>();
  readonly items = new Map<string, ItemRecord>();
  readonly subInternal = new Map<string, SubscriptionInternal>();
  readonly invoices = new Map<string, WireInvoice>();
  readonly invoiceItems = new Map<string, InvoiceItemRecord>();
  readonly paymentMethods = new Map<string, WirePaymentMethod>();
  readonly checkoutSessions = new Map<string, CheckoutRecord>();
  readonly portalSessions = new Map<string, WirePortalSession>();
  readonly meters = new Map<string, WireMeter>();
  readonly meterEvents: StoredMeterEvent[] = [];
  readonly meterIdentifiers = new Map<string, StoredMeterEvent>();
  readonly meterSubmissions = new Map<string, number>();
  readonly events = new Map<string, WireEvent>();
  readonly testClocks = new Map<string, WireTestClock>();
  readonly webhookEndpoints = new Map<string, WebhookEndpointRecord>();
  readonly paymentOutcomes = new Map<string, PaymentOutcome>();
  readonly idempotency = new Map<string, IdempotencyRecord>();
  readonly idempotencyInFlight = new Set<string>();
  portalConfigurationId: string = newId(ID_PREFIX.portalConfiguration);
  clockOffsetSeconds = 0;
  currentRequest: RequestInfo | null = null;
  private readonly listeners: EventListener[] = [];
  private readonly sequence = new Map<string, number>();
  private nextSequence = 0;

  constructor(config: ResolvedConfig) {
    this.config = config;
  }

  onEvent(listener: EventListener): void {
    this.listeners.push(listener);
  }

  /** Remembers creation order: list endpoints return newest first. */
  track(id: string): void {
    if (!this.sequence.has(id)) this.sequence.set(id, this.nextSequence++);
  }

  creationOrder(): [string, number][] {
    return [...this.sequence];
  }

  restoreCreationOrder(order: [string, number][]): void {
    this.sequence.clear();
    for (const [id, n] of order) this.sequence.set(id, n);
    this.nextSequence = order.reduce((max, [, n]) => Math.max(max, n + 1), 0);
  }

  newestFirst<T extends { id: string }>(records: Iterable<T>): T[] {
    return [...records].sort(
      (a, b) => (this.sequence.get(b.id) ?? 0) - (this.sequence.get(a.id) ?? 0),
    );
  }

  /** Emulator time in unix seconds (wall clock plus `advanceClock` offset). */
  now(): number {
    return Math.floor(this.config.now() / 1000) + this.clockOffsetSeconds;
  }

  clockOf(customerId: string | null | undefined): WireTestClock | undefined {
    if (!customerId) return undefined;
    const clock = this.customers.get(customerId)?.test_clock;
    return typeof clock === "string" ? this.testClocks.get(clock) : undefined;
  }

  /** Objects that belong to a test-clock customer live at the clock's frozen time. */
  nowFor(customerId: string | null | undefined): number {
    return this.clockOf(customerId)?.frozen_time ?? this.now();
  }

  emit(
    type: Stripe.Event.Type,
    object: object,
    at: number,
    previousAttributes?: JsonObject,
  ): WireEvent {
    const event: WireEvent = {
      id: newId(ID_PREFIX.event),
      object: "event",
      api_version: DEFAULT_API_VERSION,
      created: at,
      data: {
        object: structuredClone(object) as JsonObject,
        ...(previousAttributes && Object.keys(previousAttributes).length > 0
          ? { previous_attributes: structuredClone(previousAttributes) }
          : {}),
      },
      livemode: false,
      pending_webhooks: 0,
      request: this.currentRequest
        ? { id: this.currentRequest.id, idempotency_key: this.currentRequest.idempotency_key }
        : { id: null, idempotency_key: null },
      type,
    };
    this.events.set(event.id, event);
    this.track(event.id);
    for (const listener of this.listeners) listener(event);
    return event;
  }
}

/** Shallow diff in the shape of `data.previous_attributes`: old values of changed top-level keys. */
export function previousAttributes(before: object, after: object): JsonObject {
  const prev: JsonObject = {};
  const a = before as JsonObject;
  const b = after as JsonObject;
  for (const key of Object.keys(b)) {
    if (JSON.stringify(a[key]) !== JSON.stringify(b[key])) prev[key] = a[key] ?? null;
  }
  return prev;
}

export type { FormObject };
