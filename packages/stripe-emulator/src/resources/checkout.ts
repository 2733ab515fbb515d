import { paymentOutcome } from "../billing/payments.js";
import { isMetered, unitAmount } from "../billing/prices.js";
import { createSubscription } from "../billing/subscriptions.js";
import { cardDeclined, invalidParam, invalidRequest, missingParam, noSuch } from "../errors.js";
import { matchesRange, paginate } from "../list.js";
import type { Params } from "../params.js";
import { ID_PREFIX, newId } from "../random.js";
import { list, renderCheckoutSession } from "../render.js";
import type { Route } from "../router.js";
import type { CheckoutRecord, EmulatorState } from "../state.js";
import type { WireCheckoutLineItem, WireCheckoutSession, WirePrice } from "../wire.js";
import { createCustomer, getCustomer } from "./customers.js";
import { attachPaymentMethod, declines, newTestCard } from "./payment-methods.js";
import { createPrice, getPrice, readPriceInput } from "./prices.js";
import { createProduct } from "./products.js";

const DAY = 86_400;

export function getCheckoutRecord(state: EmulatorState, id: string): CheckoutRecord {
  const record = state.checkoutSessions.get(id);
  if (!record) throw noSuch("checkout.session", id);
  return record;
}

export function checkoutLineItems(
  state: EmulatorState,
  record: CheckoutRecord,
): WireCheckoutLineItem[] {
  const trial =
    record.subscriptionData.trialEnd !== undefined ||
    record.subscriptionData.trialPeriodDays !== undefined;
  return record.lineItems.map((line) => {
    const price = getPrice(state, line.price);
    const product =
      typeof price.product === "string" ? state.products.get(price.product) : undefined;
    const amount = trial || isMetered(price) ? 0 : Math.round(unitAmount(price) * line.quantity);
    return {
      id: line.id,
      object: "item",
      adjustable_quantity: null,
      amount_discount: 0,
      amount_subtotal: amount,
      amount_tax: 0,
      amount_total: amount,
      currency: price.currency,
      description: product?.name ?? null,
      metadata: {},
      price: structuredClone(price),
      quantity: line.quantity,
    };
  });
}

function render(state: EmulatorState, id: string, expand: string[]): WireCheckoutSession {
  const session = renderCheckoutSession(state, id);
  if (!session) throw noSuch("checkout.session", id);
  if (expand.includes("line_items")) {
    const record = getCheckoutRecord(state, id);
    session.line_items = list(
      checkoutLineItems(state, record),
      `/v1/checkout/sessions/${id}/line_items`,
    );
  }
  return session;
}

export function expireCheckoutSession(state: EmulatorState, id: string, at: number): void {
  const record = state.checkoutSessions.get(id);
  if (record?.session.status !== "open") return;
  record.session.status = "expired";
  record.session.url = null;
  state.emit("checkout.session.expired", record.session, at);
}

/**
 * Completes a session as the hosted page's Pay button (or the CLI's payment page confirm)
 * does, with the card it collected (a test card by default). `subscription` mode creates the
 * customer and the subscription (first invoice paid); `payment` mode charges the card (a
 * declining card is a 402 and leaves the session open); `setup` mode saves the card on the
 * customer. Emits `checkout.session.completed` and returns the redirect target.
 */
export function completeCheckoutSession(
  state: EmulatorState,
  id: string,
  input: { email?: string; name?: string; paymentMethod?: string },
): string | null {
  const record = getCheckoutRecord(state, id);
  const session = record.session;
  if (session.status !== "open")
    throw invalidRequest(`This Checkout Session is ${session.status}.`);
  const card = newTestCard(state, input.paymentMethod);
  const existing = typeof session.customer === "string" ? session.customer : null;
  if (session.mode === "payment") {
    const fails = existing
      ? paymentOutcome(state, existing, card.id) === "fail"
      : declines(state, card.id);
    if (fails) throw cardDeclined();
  }
  const email = input.email || session.customer_email || card.billing_details.email;
  const name = input.name || card.billing_details.name;
  const customerId =
    existing ??
    (session.customer_creation === "always"
      ? createCustomer(state, { email, name: name ?? null }).id
      : null);
  if (customerId && session.mode !== "payment") attachPaymentMethod(state, card.id, customerId);
  const customer = customerId ? getCustomer(state, customerId) : undefined;
  const at = state.nowFor(customerId);
  if (session.mode === "subscription" && customerId) {
    subscribe(state, record, customerId, card.id, at);
  } else {
    session.payment_status = session.mode === "payment" ? "paid" : "no_payment_required";
  }
  session.status = "complete";
  session.customer = customerId;
  session.url = null;
  session.customer_details = {
    address: null,
    business_name: null,
    email: customer?.email ?? email ?? null,
    individual_name: null,
    name: customer?.name ?? name ?? null,
    phone: null,
    tax_exempt: "none",
    tax_ids: [],
  };
  state.emit("checkout.session.completed", session, at);
  return session.success_url
    ? session.success_url.replaceAll("{CHECKOUT_SESSION_ID}", session.id)
    : null;
}

function subscribe(
  state: EmulatorState,
  record: CheckoutRecord,
  customerId: string,
  paymentMethod: string,
  at: number,
): void {
  const session = record.session;
  const data = record.subscriptionData;
  const trialEnd =
    data.trialEnd ?? (data.trialPeriodDays !== undefined ? at + data.trialPeriodDays * DAY : null);
  const sub = createSubscription(
    state,
    {
      customer: customerId,
      items: record.lineItems.map((line) => ({
        price: line.price,
        quantity: line.quantity,
        metadata: {},
      })),
      metadata: data.metadata,
      description: data.description ?? null,
      trialEnd,
      cancelAtPeriodEnd: false,
      cancelAt: null,
      defaultPaymentMethod: paymentMethod,
      paymentBehavior: "allow_incomplete",
      collectionMethod: "charge_automatically",
      daysUntilDue: null,
    },
    at,
  );
  session.payment_status = trialEnd !== null ? "no_payment_required" : "paid";
  session.subscription = sub.id;
  session.invoice = typeof sub.latest_invoice === "string" ? sub.latest_invoice : null;
}

type CheckoutMode = "subscription" | "payment" | "setup";

/** `price`, or inline `price_data` with `product` or `product_data` (created inactive, as in Stripe). */
function linePrice(state: EmulatorState, p: Params): WirePrice {
  const data = p.obj("price_data");
  if (!data) {
    const price = getPrice(state, p.reqStr("price"), p.name("price"));
    if (!price.active)
      throw invalidParam(
        p.name("price"),
        "The price specified is inactive. This field only accepts active prices.",
      );
    return price;
  }
  const productData = data.obj("product_data");
  const product = productData
    ? createProduct(state, {
        name: productData.reqStr("name"),
        description: productData.str("description") ?? null,
        metadata: productData.metadata(),
      }).id
    : data.reqStr("product");
  if (!state.products.has(product)) throw noSuch("product", product, data.name("product"), 400);
  return createPrice(state, { ...readPriceInput(state, data), product, active: false });
}

function readLineItems(
  state: EmulatorState,
  params: Params,
  mode: CheckoutMode,
): CheckoutRecord["lineItems"] {
  const lineParams = params.objects("line_items");
  if (mode === "setup") {
    if (lineParams?.length) {
      throw invalidParam("line_items", "You can not pass `line_items` in `setup` mode.");
    }
    return [];
  }
  if (!lineParams || lineParams.length === 0) throw missingParam("line_items");
  return lineParams.map((p) => {
    const price = linePrice(state, p);
    if (mode === "subscription" && price.type !== "recurring") {
      throw invalidParam(
        p.name("price"),
        "You must provide at least one recurring price in `subscription` mode when using prices.",
      );
    }
    if (mode === "payment" && price.type === "recurring") {
      throw invalidParam(
        p.name("price"),
        "You specified `payment` mode but passed a recurring price. Either switch to `subscription` mode or use only one-time prices.",
      );
    }
    const quantity = p.int("quantity") ?? (isMetered(price) ? 1 : undefined);
    if (quantity === undefined) throw missingParam(p.name("quantity"));
    return { id: newId(ID_PREFIX.checkoutLineItem), price: price.id, quantity };
  });
}

export const checkoutRoutes: Route[] = [
  {
    method: "POST",
    pattern: "/v1/checkout/sessions",
    handler: ({ state, params, origin }) => {
      const mode = params.enumOf("mode", ["subscription", "payment", "setup"] as const);
      if (!mode) throw missingParam("mode");
      const customer = params.str("customer");
      if (customer) getCustomer(state, customer, "customer");
      const customerEmail = params.str("customer_email");
      if (customer && customerEmail) {
        throw invalidRequest(
          "You may only specify one of these parameters: customer, customer_email.",
          "customer_email",
        );
      }
      const lineItems = readLineItems(state, params, mode);
      const currencies = new Set(lineItems.map((l) => getPrice(state, l.price).currency));
      const currency = params.str("currency")?.toLowerCase();
      if (currency) currencies.add(currency);
      if (currencies.size > 1)
        throw invalidParam("line_items", "All prices must use the same currency.");
      const subscriptionData =
        mode === "subscription" ? params.obj("subscription_data") : undefined;
      // Subscriptions always need a customer; elsewhere Stripe creates one only when asked.
      const customerCreation =
        mode === "subscription"
          ? "always"
          : (params.enumOf("customer_creation", ["always", "if_required"] as const) ??
            "if_required");
      const trialPeriodDays = subscriptionData?.int("trial_period_days");
      const trialEnd = subscriptionData?.int("trial_end");
      const id = newId(ID_PREFIX.checkoutSession, 58);
      const at = state.now();
      // Sessions expire after 24 hours unless `expires_at` says otherwise (30 min – 24 h).
      const expiresAt = params.int("expires_at") ?? at + DAY;
      if (expiresAt < at + 1800 || expiresAt > at + DAY) {
        throw invalidParam(
          "expires_at",
          "The `expires_at` timestamp must be between 30 minutes and 24 hours from now.",
        );
      }
      const trial = trialPeriodDays !== undefined || trialEnd !== undefined;
      const amounts = lineItems.map((l) => {
        const price = getPrice(state, l.price);
        return trial || isMetered(price) ? 0 : Math.round(unitAmount(price) * l.quantity);
      });
      const total = amounts.reduce((a, b) => a + b, 0);
      const session: WireCheckoutSession = {
        id,
        object: "checkout.session",
        adaptive_pricing: null,
        after_expiration: null,
        allow_promotion_codes: params.bool("allow_promotion_codes") ?? null,
        allowed_payment_method_types: null,
        amount_subtotal: total,
        amount_total: total,
        automatic_tax: { enabled: false, liability: null, provider: null, status: null },
        billing_address_collection: null,
        cancel_url: params.str("cancel_url") ?? null,
        client_reference_id: params.str("client_reference_id") ?? null,
        client_secret: null,
        collected_information: null,
        consent: null,
        consent_collection: null,
        created: at,
        currency: [...currencies][0] ?? null,
        currency_conversion: null,
        custom_fields: [],
        custom_text: {
          after_submit: null,
          shipping_address: null,
          submit: null,
          terms_of_service_acceptance: null,
        },
        customer: customer ?? null,
        customer_account: null,
        customer_creation: customer ? null : customerCreation,
        customer_details: customerEmail
          ? {
              address: null,
              business_name: null,
              email: customerEmail,
              individual_name: null,
              name: null,
              phone: null,
              tax_exempt: "none",
              tax_ids: null,
            }
          : null,
        customer_email: customerEmail ?? null,
        discounts: [],
        expires_at: expiresAt,
        integration_identifier: null,
        invoice: null,
        invoice_creation: null,
        livemode: false,
        locale: null,
        managed_payments: null,
        metadata: params.metadata(),
        mode,
        origin_context: null,
        payment_intent: null,
        payment_link: null,
        payment_method_collection: "always",
        payment_method_configuration_details: null,
        payment_method_options: null,
        payment_method_types: params.strings("payment_method_types") ?? ["card"],
        payment_status: mode === "setup" ? "no_payment_required" : "unpaid",
        permissions: null,
        recovered_from: null,
        saved_payment_method_options: null,
        setup_intent: null,
        shipping_address_collection: null,
        shipping_cost: null,
        shipping_options: [],
        status: "open",
        submit_type: null,
        subscription: null,
        success_url: params.str("success_url") ?? null,
        total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
        ui_mode: "hosted_page",
        url: `${origin}/checkout/${id}`,
        wallet_options: null,
      };
      state.checkoutSessions.set(id, {
        session,
        lineItems,
        subscriptionData: {
          metadata: subscriptionData?.metadata() ?? {},
          trialPeriodDays,
          trialEnd,
          description: subscriptionData?.str("description"),
        },
        declineMessage: null,
      });
      state.track(id);
      return render(state, id, params.expand());
    },
  },
  {
    method: "GET",
    pattern: "/v1/checkout/sessions",
    handler: ({ state, params }) => {
      const customer = params.str("customer");
      const subscription = params.str("subscription");
      const status = params.enumOf("status", ["open", "complete", "expired"] as const);
      const all = state
        .newestFirst([...state.checkoutSessions.values()].map((r) => r.session))
        .filter(
          (s) =>
            (customer === undefined || s.customer === customer) &&
            (subscription === undefined || s.subscription === subscription) &&
            (status === undefined || s.status === status) &&
            matchesRange(params, "created", s.created),
        )
        .map((s) => structuredClone(s));
      return paginate(all, params, "/v1/checkout/sessions");
    },
  },
  {
    method: "GET",
    pattern: "/v1/checkout/sessions/:id",
    handler: ({ state, params, path }) => render(state, path.id ?? "", params.expand()),
  },
  {
    method: "GET",
    pattern: "/v1/checkout/sessions/:id/line_items",
    handler: ({ state, params, path }) => {
      const record = getCheckoutRecord(state, path.id ?? "");
      return paginate(
        checkoutLineItems(state, record),
        params,
        `/v1/checkout/sessions/${record.session.id}/line_items`,
      );
    },
  },
  // The private endpoints behind the hosted page, which `stripe trigger
  // checkout.session.completed` drives: read the page, then confirm with a payment method.
  {
    method: "GET",
    pattern: "/v1/payment_pages/:id",
    handler: ({ state, params, path }) => render(state, path.id ?? "", params.expand()),
  },
  {
    method: "POST",
    pattern: "/v1/payment_pages/:id/confirm",
    handler: ({ state, params, path }) => {
      const record = getCheckoutRecord(state, path.id ?? "");
      const expected = params.int("expected_amount");
      if (expected !== undefined && expected !== record.session.amount_total) {
        throw invalidParam(
          "expected_amount",
          `The expected amount ${expected} does not match the session's total ${record.session.amount_total}.`,
        );
      }
      completeCheckoutSession(state, record.session.id, {
        paymentMethod: params.reqStr("payment_method"),
        email: params.str("email"),
      });
      return render(state, record.session.id, params.expand());
    },
  },
  {
    method: "POST",
    pattern: "/v1/checkout/sessions/:id/expire",
    handler: ({ state, params, path }) => {
      const record = getCheckoutRecord(state, path.id ?? "");
      if (record.session.status !== "open") {
        throw invalidRequest(
          `Only Checkout Sessions with a status of \`open\` can be expired. This Checkout Session has a status of \`${record.session.status}\`.`,
        );
      }
      expireCheckoutSession(state, record.session.id, state.now());
      return render(state, record.session.id, params.expand());
    },
  },
];
