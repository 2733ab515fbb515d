import { cardDeclined, invalidParam, invalidRequest, noSuch } from "../errors.js";
import { paginate } from "../list.js";
import type { Params } from "../params.js";
import { ID_PREFIX, newId, randomString } from "../random.js";
import type { Route } from "../router.js";
import { type EmulatorState, previousAttributes } from "../state.js";
import type { WirePaymentMethod } from "../wire.js";
import { getCustomer } from "./customers.js";

interface TestCard {
  brand: string;
  last4: string;
  /** Declines every charge (and, except `chargeCustomerFail`, the attach's card check too). */
  declines: boolean;
}

/**
 * Stripe's test cards by the name shared by `pm_card_<name>` and `tok_<name>`
 * (https://docs.stripe.com/testing#cards, #declined-payments).
 */
const TEST_CARDS: Record<string, TestCard> = {
  visa: { brand: "visa", last4: "4242", declines: false },
  visa_debit: { brand: "visa", last4: "5556", declines: false },
  mastercard: { brand: "mastercard", last4: "4444", declines: false },
  amex: { brand: "amex", last4: "8431", declines: false },
  chargeCustomerFail: { brand: "visa", last4: "0341", declines: true },
  chargeDeclined: { brand: "visa", last4: "0002", declines: true },
  chargeDeclinedInsufficientFunds: { brand: "visa", last4: "9995", declines: true },
};
const DECLINING_LAST4 = new Set(
  Object.values(TEST_CARDS)
    .filter((c) => c.declines)
    .map((c) => c.last4),
);
/** The one declining card Stripe lets you attach: charges fail later, which is what dunning tests need. */
const ATTACHABLE_DECLINING = "0341";

function testCardOf(token: string): TestCard | undefined {
  const m = /^(?:pm_card_|tok_)(\w+)$/.exec(token);
  return m ? TEST_CARDS[m[1] ?? ""] : undefined;
}

function cardFromNumber(number: string): TestCard {
  const digits = number.replace(/\D/g, "");
  const last4 = digits.slice(-4);
  const brand = digits.startsWith("5") ? "mastercard" : digits.startsWith("3") ? "amex" : "visa";
  return { brand, last4, declines: DECLINING_LAST4.has(last4) };
}

export function getPaymentMethod(
  state: EmulatorState,
  id: string,
  param = "id",
): WirePaymentMethod {
  const pm = state.paymentMethods.get(id);
  if (!pm) throw noSuch("PaymentMethod", id, param, param === "id" ? 404 : 400);
  return pm;
}

/** True when charging this payment method (an id or a test token) fails. */
export function declines(state: EmulatorState, id: string): boolean {
  const last4 = state.paymentMethods.get(id)?.card?.last4;
  if (last4 !== undefined) return DECLINING_LAST4.has(last4);
  return testCardOf(id)?.declines ?? /_decline/i.test(id);
}

function readBillingDetails(params: Params | undefined): WirePaymentMethod["billing_details"] {
  const address = params?.obj("address");
  return {
    address: address
      ? {
          city: address.str("city") ?? null,
          country: address.str("country") ?? null,
          line1: address.str("line1") ?? null,
          line2: address.str("line2") ?? null,
          postal_code: address.str("postal_code") ?? null,
          state: address.str("state") ?? null,
        }
      : null,
    email: params?.nullableStr("email") ?? null,
    name: params?.nullableStr("name") ?? null,
    phone: params?.nullableStr("phone") ?? null,
    tax_id: null,
  };
}

function createPaymentMethod(
  state: EmulatorState,
  card: TestCard,
  input: {
    billingDetails?: WirePaymentMethod["billing_details"];
    metadata?: Record<string, string>;
  } = {},
): WirePaymentMethod {
  const created = state.now();
  const pm: WirePaymentMethod = {
    id: newId(ID_PREFIX.paymentMethod),
    object: "payment_method",
    allow_redisplay: "unspecified",
    billing_details: input.billingDetails ?? readBillingDetails(undefined),
    card: {
      brand: card.brand,
      checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: null },
      country: "US",
      display_brand: card.brand,
      exp_month: 12,
      exp_year: new Date(created * 1000).getUTCFullYear() + 3,
      fingerprint: randomString(16),
      funding: "credit",
      generated_from: null,
      last4: card.last4,
      networks: { available: [card.brand], preferred: null },
      regulated_status: "unregulated",
      three_d_secure_usage: { supported: true },
      wallet: null,
    },
    created,
    customer: null,
    customer_account: null,
    livemode: false,
    metadata: input.metadata ?? {},
    type: "card",
  };
  state.paymentMethods.set(pm.id, pm);
  state.track(pm.id);
  return pm;
}

/** A test token (`pm_card_visa`) mints a new PaymentMethod on each use, as in Stripe. */
function paymentMethodFor(state: EmulatorState, value: string, param: string): WirePaymentMethod {
  const existing = state.paymentMethods.get(value);
  if (existing) return existing;
  const card = testCardOf(value);
  if (!card) throw noSuch("PaymentMethod", value, param, param === "id" ? 404 : 400);
  return createPaymentMethod(state, card);
}

/** Attaching checks the card; only `chargeCustomerFail` declines later rather than now. */
function assertAttachable(pm: WirePaymentMethod): void {
  if (pm.card && DECLINING_LAST4.has(pm.card.last4) && pm.card.last4 !== ATTACHABLE_DECLINING) {
    throw cardDeclined();
  }
}

/**
 * `payment_method` and `invoice_settings[default_payment_method]` on customer create: resolved
 * (tokens minted) before the customer exists, attached once `customer.created` is out, as in
 * Stripe's event order. Like Checkout, a lone `payment_method` also becomes the default.
 */
export function paymentMethodsForNewCustomer(
  state: EmulatorState,
  attach: string | undefined,
  defaultPm: string | null | undefined,
): { toAttach: WirePaymentMethod[]; defaultId: string | null } {
  const attached = attach ? paymentMethodFor(state, attach, "payment_method") : undefined;
  let fallback: WirePaymentMethod | undefined = attached;
  if (defaultPm && defaultPm !== attach) {
    const param = "invoice_settings[default_payment_method]";
    if (!testCardOf(defaultPm)) {
      throw invalidParam(
        param,
        `The customer does not have a payment method with the ID ${defaultPm}. The payment method must be attached to the customer.`,
        "resource_missing",
      );
    }
    fallback = paymentMethodFor(state, defaultPm, param);
  }
  const toAttach = [attached, fallback].filter(
    (pm, i, all): pm is WirePaymentMethod => pm !== undefined && all.indexOf(pm) === i,
  );
  for (const pm of toAttach) {
    if (pm.customer !== null) {
      throw invalidRequest(
        "The payment method you provided has already been attached to a customer.",
        "payment_method",
        "payment_method_unexpected_state",
      );
    }
    assertAttachable(pm);
  }
  return { toAttach, defaultId: defaultPm === null ? null : (fallback?.id ?? null) };
}

export function attachPaymentMethod(
  state: EmulatorState,
  value: string,
  customerId: string,
  param = "id",
): WirePaymentMethod {
  const pm = paymentMethodFor(state, value, param);
  if (pm.customer === customerId) return pm;
  if (pm.customer !== null) {
    throw invalidRequest(
      "The payment method you provided has already been attached to a customer.",
      param,
      "payment_method_unexpected_state",
    );
  }
  assertAttachable(pm);
  pm.customer = customerId;
  state.emit("payment_method.attached", pm, state.nowFor(customerId));
  return pm;
}

/**
 * A payment method parameter on a customer or subscription (`default_payment_method`): an id
 * attached to that customer, or a test token, which is attached on the way.
 */
export function customerPaymentMethod(
  state: EmulatorState,
  customerId: string,
  value: string,
  param: string,
): string {
  if (testCardOf(value) && !state.paymentMethods.has(value)) {
    return attachPaymentMethod(state, value, customerId, param).id;
  }
  const pm = getPaymentMethod(state, value, param);
  if (pm.customer !== customerId) {
    throw invalidParam(
      param,
      `The customer does not have a payment method with the ID ${value}. The payment method must be attached to the customer.`,
      "resource_missing",
    );
  }
  return pm.id;
}

/** What Checkout's hosted page does with the test card it collects. */
export function newTestCard(state: EmulatorState, token = "pm_card_visa"): WirePaymentMethod {
  return paymentMethodFor(state, token, "payment_method");
}

function detachPaymentMethod(state: EmulatorState, pm: WirePaymentMethod): void {
  const customerId = typeof pm.customer === "string" ? pm.customer : null;
  if (!customerId) {
    throw invalidRequest(
      "The payment method you provided is not attached to a customer so detachment is impossible.",
      undefined,
      "payment_method_unexpected_state",
    );
  }
  const at = state.nowFor(customerId);
  const customer = state.customers.get(customerId);
  if (customer?.invoice_settings.default_payment_method === pm.id) {
    const before = structuredClone(customer);
    customer.invoice_settings.default_payment_method = null;
    state.emit("customer.updated", customer, at, previousAttributes(before, customer));
  }
  pm.customer = null;
  state.emit("payment_method.detached", pm, at);
}

function cardParams(params: Params): TestCard {
  const type = params.reqStr("type");
  if (type !== "card") {
    throw invalidParam("type", "The Stripe emulator supports payment methods of type card only.");
  }
  const card = params.obj("card");
  const token = card?.str("token");
  if (token) {
    const found = testCardOf(token);
    if (!found) throw noSuch("token", token, "card[token]", 400);
    return found;
  }
  return cardFromNumber(card?.reqStr("number") ?? "4242424242424242");
}

function listFor(state: EmulatorState, params: Params, customer: string | undefined, url: string) {
  const type = params.str("type");
  const all = state
    .newestFirst(state.paymentMethods.values())
    .filter(
      (pm) =>
        pm.customer !== null &&
        (customer === undefined || pm.customer === customer) &&
        (type === undefined || pm.type === type),
    );
  return paginate(all, params, url);
}

export const paymentMethodRoutes: Route[] = [
  {
    method: "POST",
    pattern: "/v1/payment_methods",
    handler: ({ state, params }) =>
      createPaymentMethod(state, cardParams(params), {
        billingDetails: readBillingDetails(params.obj("billing_details")),
        metadata: params.metadata(),
      }),
  },
  {
    method: "GET",
    pattern: "/v1/payment_methods",
    handler: ({ state, params }) =>
      listFor(state, params, params.str("customer"), "/v1/payment_methods"),
  },
  {
    method: "GET",
    pattern: "/v1/customers/:id/payment_methods",
    handler: ({ state, params, path }) => {
      const customer = getCustomer(state, path.id ?? "");
      return listFor(state, params, customer.id, `/v1/customers/${customer.id}/payment_methods`);
    },
  },
  {
    method: "GET",
    pattern: "/v1/payment_methods/:id",
    handler: ({ state, path }) => getPaymentMethod(state, path.id ?? ""),
  },
  {
    method: "POST",
    pattern: "/v1/payment_methods/:id",
    handler: ({ state, params, path }) => {
      const pm = getPaymentMethod(state, path.id ?? "");
      const before = structuredClone(pm);
      pm.metadata = params.metadata(pm.metadata ?? {});
      const details = params.obj("billing_details");
      if (details) pm.billing_details = readBillingDetails(details);
      const prev = previousAttributes(before, pm);
      if (Object.keys(prev).length > 0) {
        const customer = typeof pm.customer === "string" ? pm.customer : null;
        state.emit("payment_method.updated", pm, state.nowFor(customer), prev);
      }
      return pm;
    },
  },
  {
    method: "POST",
    pattern: "/v1/payment_methods/:id/attach",
    handler: ({ state, params, path }) => {
      const customer = getCustomer(state, params.reqStr("customer"), "customer");
      return attachPaymentMethod(state, path.id ?? "", customer.id);
    },
  },
  {
    method: "POST",
    pattern: "/v1/payment_methods/:id/detach",
    handler: ({ state, path }) => {
      const pm = getPaymentMethod(state, path.id ?? "");
      detachPaymentMethod(state, pm);
      return pm;
    },
  },
];
