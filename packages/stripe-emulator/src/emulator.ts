import { processDue } from "./billing/due.js";
import { errorResponseBody, invalidRequest, StripeApiError } from "./errors.js";
import { expandObject } from "./expand.js";
import { canonicalJson, type FormObject, parseForm } from "./form.js";
import { handleHosted } from "./hosted.js";
import { Params } from "./params.js";
import { type EmulatorSnapshot, restoreState, snapshotState } from "./persistence.js";
import { ID_PREFIX, newId, seededRandom } from "./random.js";
import {
  checkoutRoutes,
  completeCheckoutSession,
  expireCheckoutSession,
} from "./resources/checkout.js";
import { customerRoutes } from "./resources/customers.js";
import { eventRoutes } from "./resources/events.js";
import { invoiceItemRoutes } from "./resources/invoice-items.js";
import { invoiceRoutes } from "./resources/invoices.js";
import { meterRoutes } from "./resources/meters.js";
import { paymentMethodRoutes } from "./resources/payment-methods.js";
import { portalRoutes } from "./resources/portal.js";
import { priceRoutes } from "./resources/prices.js";
import { productRoutes } from "./resources/products.js";
import { subscriptionRoutes } from "./resources/subscriptions.js";
import { testClockRoutes } from "./resources/test-clocks.js";
import { addEndpoint, webhookEndpointRoutes } from "./resources/webhook-endpoints.js";
import { Router } from "./router.js";
import {
  type ChaosOptions,
  DEFAULT_API_VERSION,
  EmulatorState,
  type PaymentOutcome,
  resolveConfig,
  type StripeEmulatorOptions,
} from "./state.js";
import { type DeliveryAttempt, type DeliveryReport, WebhookDispatcher } from "./webhooks.js";

export interface StripeEmulator {
  /** Fetch-compatible handler: pass it to `Stripe.createFetchHttpClient(emulator.fetch)`. */
  fetch: typeof fetch;
  /** Emulator time in unix seconds. */
  now(): number;
  /** Moves the emulator clock (not test clocks) forward and runs what falls due. */
  advanceClock(seconds: number): void;
  /** Makes every charge of a customer succeed or fail (null restores the payment-method rule). */
  setPaymentOutcome(customerId: string, outcome: PaymentOutcome | null): void;
  /**
   * Registers an endpoint without the API. `replace` updates the endpoint already registered
   * for the URL instead (the standalone server registers `STRIPE_WEBHOOK_URL` on every start).
   */
  addWebhookEndpoint(input: {
    url: string;
    enabledEvents?: string[];
    secret?: string;
    replace?: boolean;
  }): {
    id: string;
    secret: string;
  };
  /** Changes chaos settings; passing a seed restarts the random source. */
  setChaos(chaos: Partial<ChaosOptions>, seed?: number): void;
  /** Delivers queued webhooks (with retries and chaos) until the queue is empty. */
  deliverPending(): Promise<DeliveryReport>;
  /** Every delivery attempt so far, in order. */
  readonly deliveries: readonly DeliveryAttempt[];
  /** Deliveries still queued (including scheduled retries). */
  pendingDeliveries(): number;
  /** Meter events stored and requests received for one identifier (test accessor). */
  meterEventCount(identifier: string): { stored: number; received: number };
  /** Completes a Checkout Session as the hosted page's Pay button would; returns the redirect. */
  completeCheckoutSession(id: string, input?: { email?: string; name?: string }): string | null;
  /** The whole state as JSON-able data; `createStripeEmulator({ snapshot })` resumes from it. */
  snapshot(): EmulatorSnapshot;
  /** Forgets every object, event, key and queued delivery. */
  reset(): void;
  /** Stops delivery timers (auto-delivery mode). */
  close(): void;
}

const API_VERSION_FORMAT = /^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$/;

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(typeof body === "string" ? body : JSON.stringify(body, null, 2), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

function errorResponse(error: StripeApiError, headers: Record<string, string> = {}): Response {
  return json(errorResponseBody(error), error.status, { ...headers, ...error.headers });
}

function unauthorized(message: string): StripeApiError {
  return new StripeApiError(401, { type: "invalid_request_error", message });
}

/** Bearer (what the SDK sends) or Basic with the key as user name (`curl -u sk_test_…:`). */
function apiKeyOf(request: Request): string | undefined {
  const header = request.headers.get("Authorization");
  if (!header) return undefined;
  const [scheme, value = ""] = header.split(" ", 2);
  if (scheme?.toLowerCase() === "bearer") return value.trim();
  if (scheme?.toLowerCase() === "basic") {
    try {
      return atob(value.trim()).split(":")[0];
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function authenticate(request: Request): void {
  const key = apiKeyOf(request);
  if (!key) {
    throw unauthorized(
      "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
    );
  }
  if (!key.startsWith("sk_test_")) {
    const masked =
      key.length > 8
        ? `${key.slice(0, 8)}${"*".repeat(Math.max(0, key.length - 12))}${key.slice(-4)}`
        : key;
    throw unauthorized(`Invalid API Key provided: ${masked}`);
  }
}

/** Idempotency records live 24 hours (https://docs.stripe.com/api/idempotent_requests). */
const IDEMPOTENCY_TTL = 86_400;

/**
 * Results are saved once the endpoint started executing: successes, card errors and server
 * errors replay; validation failures (400/404) are not saved and may be retried with the same
 * key (https://docs.stripe.com/api/idempotent_requests).
 */
function saves(status: number): boolean {
  return status < 400 || status === 402 || status >= 500;
}

export function createStripeEmulator(options: StripeEmulatorOptions = {}): StripeEmulator {
  const config = resolveConfig(options);
  let state = new EmulatorState(config);
  const dispatcher = new WebhookDispatcher(
    () => state,
    config,
    seededRandom(options.seed ?? Date.now()),
  );
  const attach = (s: EmulatorState) => s.onEvent((event) => dispatcher.enqueue(event));
  if (options.snapshot) {
    // Restored before listening: loading must not queue the saved events a second time.
    restoreState(state, options.snapshot);
    dispatcher.restore(options.snapshot.webhooks);
  }
  attach(state);

  const router = new Router();
  router.add([
    ...customerRoutes,
    ...productRoutes,
    ...priceRoutes,
    ...subscriptionRoutes,
    ...invoiceRoutes,
    ...invoiceItemRoutes,
    ...paymentMethodRoutes,
    ...checkoutRoutes,
    ...portalRoutes,
    ...meterRoutes,
    ...eventRoutes,
    ...testClockRoutes,
    ...webhookEndpointRoutes,
  ]);

  /** Runs what fell due: objects on the emulator clock up to now, test clocks up to their time. */
  function settle(): void {
    const expire = (id: string, at: number) => expireCheckoutSession(state, id, at);
    processDue(state, null, state.now(), expire);
    for (const clock of state.testClocks.values())
      processDue(state, clock.id, clock.frozen_time, expire);
  }

  async function readParams(request: Request, url: URL): Promise<FormObject> {
    const query = parseForm(url.search.slice(1));
    if (request.method !== "POST") return query;
    const contentType = request.headers.get("Content-Type") ?? "";
    const text = await request.text();
    if (text && contentType.includes("application/json")) {
      throw invalidRequest(
        "Invalid request: the Stripe API expects application/x-www-form-urlencoded bodies.",
      );
    }
    return { ...query, ...parseForm(text) };
  }

  /** API requests received per route (`GET /v1/subscriptions`), for benchmarks and tests. */
  const requestCounts = new Map<string, number>();

  async function handleApi(request: Request, url: URL): Promise<Response> {
    const requestId = newId(ID_PREFIX.request, 14);
    const version = request.headers.get("Stripe-Version") ?? DEFAULT_API_VERSION;
    const idempotencyKey =
      request.method === "POST" ? request.headers.get("Idempotency-Key") : null;
    const headers: Record<string, string> = { "Request-Id": requestId, "Stripe-Version": version };
    if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
    let claimed = false;
    try {
      authenticate(request);
      if (!API_VERSION_FORMAT.test(version))
        throw invalidRequest(`Invalid Stripe API version: ${version}`);
      const match = router.match(request.method, url.pathname);
      if (!match) {
        throw new StripeApiError(404, {
          type: "invalid_request_error",
          message: `Unrecognized request URL (${request.method}: ${url.pathname}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
        });
      }
      requestCounts.set(match.route, (requestCounts.get(match.route) ?? 0) + 1);
      const raw = await readParams(request, url);
      const fingerprint = canonicalJson(raw);
      if (idempotencyKey) {
        if (idempotencyKey.length > 255) {
          throw invalidRequest(
            "Idempotency keys can be at most 255 characters long.",
            "Idempotency-Key",
          );
        }
        const stored = state.idempotency.get(idempotencyKey);
        if (stored && stored.createdAt + IDEMPOTENCY_TTL <= state.now())
          state.idempotency.delete(idempotencyKey);
        const record = state.idempotency.get(idempotencyKey);
        if (record) {
          if (record.method !== request.method || record.path !== url.pathname) {
            throw new StripeApiError(400, {
              type: "idempotency_error",
              message: `Keys for idempotent requests can only be used for the same endpoint they were first used for ('${record.method} ${record.path}' vs '${request.method} ${url.pathname}'). Try using a key other than '${idempotencyKey}' if you meant to execute a different request.`,
            });
          }
          if (record.params !== fingerprint) {
            throw new StripeApiError(400, {
              type: "idempotency_error",
              message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idempotencyKey}' if you meant to execute a different request.`,
            });
          }
          return json(record.body, record.status, {
            ...headers,
            "Idempotent-Replayed": "true",
            "Original-Request": record.requestId,
          });
        }
        if (state.idempotencyInFlight.has(idempotencyKey)) {
          throw new StripeApiError(409, {
            type: "idempotency_error",
            code: "idempotency_key_in_use",
            message:
              "There is currently another in-progress request using this Stripe Idempotency Key. Please try again later.",
          });
        }
        state.idempotencyInFlight.add(idempotencyKey);
        claimed = true;
      }

      settle();
      const params = new Params(raw);
      let status = 200;
      let body: string;
      let extraHeaders: Record<string, string> = {};
      state.currentRequest = { id: requestId, idempotency_key: idempotencyKey };
      try {
        const result = match.handler({
          state,
          params,
          path: match.path,
          origin: config.baseUrl ?? url.origin,
          settle,
        });
        body = JSON.stringify(
          expandObject(state, structuredClone(result), params.expand()),
          null,
          2,
        );
      } catch (error) {
        if (!(error instanceof StripeApiError)) throw error;
        status = error.status;
        body = errorResponseBody(error);
        extraHeaders = error.headers;
      } finally {
        state.currentRequest = null;
      }
      settle();
      if (idempotencyKey && saves(status)) {
        state.idempotency.set(idempotencyKey, {
          method: request.method,
          path: url.pathname,
          params: fingerprint,
          status,
          body,
          requestId,
          createdAt: state.now(),
        });
      }
      return json(body, status, { ...headers, ...extraHeaders });
    } catch (error) {
      if (error instanceof StripeApiError) return errorResponse(error, headers);
      const message = error instanceof Error ? error.message : String(error);
      return errorResponse(
        new StripeApiError(500, { type: "api_error", message: `Emulator error: ${message}` }),
        headers,
      );
    } finally {
      if (claimed && idempotencyKey) state.idempotencyInFlight.delete(idempotencyKey);
    }
  }

  async function handleControl(request: Request, url: URL): Promise<Response> {
    try {
      authenticate(request);
    } catch (error) {
      if (error instanceof StripeApiError) return errorResponse(error);
      throw error;
    }
    const body =
      request.method === "POST"
        ? ((await request.json().catch(() => ({}))) as Record<string, unknown>)
        : {};
    const path = url.pathname.replace(/^\/_emulator/, "");
    const route = `${request.method} ${path}`;
    let m: RegExpExecArray | null;
    if (route === "POST /clock/advance") {
      emulator.advanceClock(Number(body.seconds ?? 0));
      return json({ now: state.now() });
    }
    if (route === "POST /chaos") {
      const { seed, ...chaos } = body;
      emulator.setChaos(
        chaos as Partial<ChaosOptions>,
        typeof seed === "number" ? seed : undefined,
      );
      return json({ chaos: config.chaos });
    }
    if (route === "GET /requests") return json({ data: Object.fromEntries(requestCounts) });
    if (route === "POST /webhooks/deliver") return json(await emulator.deliverPending());
    if (route === "GET /webhooks/attempts") return json({ data: dispatcher.log });
    if (route === "POST /webhook_endpoints") {
      return json(
        emulator.addWebhookEndpoint({
          url: String(body.url ?? ""),
          enabledEvents: Array.isArray(body.enabled_events)
            ? body.enabled_events.map(String)
            : undefined,
          secret: typeof body.secret === "string" ? body.secret : undefined,
        }),
      );
    }
    m = /^POST \/customers\/([^/]+)\/payment_outcome$/.exec(route);
    if (m) {
      const outcome = body.outcome === "fail" || body.outcome === "succeed" ? body.outcome : null;
      emulator.setPaymentOutcome(decodeURIComponent(m[1] ?? ""), outcome);
      return json({ outcome });
    }
    m = /^GET \/meter_events\/([^/]+)$/.exec(route);
    if (m) {
      const identifier = decodeURIComponent(m[1] ?? "");
      return json({ identifier, ...emulator.meterEventCount(identifier) });
    }
    m = /^POST \/checkout\/sessions\/([^/]+)\/complete$/.exec(route);
    if (m) {
      const redirect = emulator.completeCheckoutSession(decodeURIComponent(m[1] ?? ""), {
        email: typeof body.email === "string" ? body.email : undefined,
      });
      return json({ redirect });
    }
    if (route === "POST /reset") {
      emulator.reset();
      return json({ reset: true });
    }
    return json(
      { error: { type: "invalid_request_error", message: `Unknown control route ${route}` } },
      404,
    );
  }

  const fetchHandler = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    try {
      return await route(input, init);
    } finally {
      config.onChange();
    }
  };

  const route = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request =
      input instanceof Request && init === undefined ? input : new Request(input, init);
    const url = new URL(request.url);
    if (url.pathname.startsWith("/v1/")) return handleApi(request, url);
    if (url.pathname.startsWith("/checkout/") || url.pathname.startsWith("/portal/")) {
      settle();
      const response = await handleHosted(state, request, url);
      settle();
      return response;
    }
    if (url.pathname.startsWith("/_emulator/")) return handleControl(request, url);
    if (url.pathname === "/" || url.pathname === "/healthz") {
      return json({ ok: true, emulator: "stripe", api_version: DEFAULT_API_VERSION });
    }
    return errorResponse(
      new StripeApiError(404, {
        type: "invalid_request_error",
        message: `Unrecognized request URL (${request.method}: ${url.pathname}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
      }),
    );
  };

  const emulator: StripeEmulator = {
    fetch: fetchHandler as typeof fetch,
    now: () => state.now(),
    advanceClock(seconds) {
      if (!Number.isFinite(seconds) || seconds < 0) throw new RangeError("seconds must be >= 0");
      state.clockOffsetSeconds += Math.floor(seconds);
      settle();
      config.onChange();
    },
    setPaymentOutcome(customerId, outcome) {
      if (outcome) state.paymentOutcomes.set(customerId, outcome);
      else state.paymentOutcomes.delete(customerId);
      config.onChange();
    },
    addWebhookEndpoint(input) {
      const same = input.replace
        ? [...state.webhookEndpoints.values()].find((r) => r.endpoint.url === input.url)
        : undefined;
      if (same && input.secret) same.secret = input.secret;
      if (same && input.enabledEvents) same.endpoint.enabled_events = input.enabledEvents;
      const record = same ?? addEndpoint(state, input);
      config.onChange();
      return { id: record.endpoint.id, secret: record.secret };
    },
    setChaos(chaos, seed) {
      Object.assign(config.chaos, chaos);
      if (seed !== undefined) dispatcher.random = seededRandom(seed);
    },
    deliverPending: () => dispatcher.deliverPending(),
    get deliveries() {
      return dispatcher.log;
    },
    pendingDeliveries: () => dispatcher.pendingCount(),
    meterEventCount(identifier) {
      return {
        stored: state.meterEvents.filter((e) => e.identifier === identifier).length,
        received: state.meterSubmissions.get(identifier) ?? 0,
      };
    },
    completeCheckoutSession(id, input = {}) {
      settle();
      const redirect = completeCheckoutSession(state, id, input);
      settle();
      config.onChange();
      return redirect;
    },
    snapshot: () => snapshotState(state, dispatcher.snapshot()),
    reset() {
      state = new EmulatorState(config);
      attach(state);
      dispatcher.reset();
      requestCounts.clear();
      config.onChange();
    },
    close() {
      dispatcher.close();
    },
  };
  return emulator;
}
