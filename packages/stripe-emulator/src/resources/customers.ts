import { invoicePrefix } from "../billing/invoices.js";
import { cancelSubscription } from "../billing/subscription-status.js";
import { noSuch } from "../errors.js";
import { matchesRange, paginate } from "../list.js";
import type { Params } from "../params.js";
import { ID_PREFIX, newId } from "../random.js";
import type { Route } from "../router.js";
import { type EmulatorState, previousAttributes } from "../state.js";
import type { WireCustomer } from "../wire.js";
import {
  attachPaymentMethod,
  customerPaymentMethod,
  paymentMethodsForNewCustomer,
} from "./payment-methods.js";

export function getCustomer(state: EmulatorState, id: string, param = "id"): WireCustomer {
  const customer = state.customers.get(id);
  if (!customer) throw noSuch("customer", id, param, param === "id" ? 404 : 400);
  return customer;
}

export interface NewCustomer {
  email?: string | null;
  name?: string | null;
  description?: string | null;
  phone?: string | null;
  metadata?: Record<string, string>;
  paymentMethod?: string | null;
  testClock?: string | null;
}

export function createCustomer(state: EmulatorState, input: NewCustomer): WireCustomer {
  const clock = input.testClock ? state.testClocks.get(input.testClock) : undefined;
  const at = clock?.frozen_time ?? state.now();
  const customer: WireCustomer = {
    id: newId(ID_PREFIX.customer, 14),
    object: "customer",
    address: null,
    balance: 0,
    created: at,
    currency: null,
    default_source: null,
    delinquent: false,
    description: input.description ?? null,
    discount: null,
    email: input.email ?? null,
    invoice_prefix: invoicePrefix(),
    invoice_settings: {
      custom_fields: null,
      // `payment_method` on create attaches it; Checkout and the API then make it the default.
      default_payment_method: input.paymentMethod ?? null,
      footer: null,
      rendering_options: null,
    },
    livemode: false,
    metadata: input.metadata ?? {},
    name: input.name ?? null,
    next_invoice_sequence: 1,
    phone: input.phone ?? null,
    preferred_locales: [],
    shipping: null,
    tax_exempt: "none",
    test_clock: clock?.id ?? null,
  };
  state.customers.set(customer.id, customer);
  state.track(customer.id);
  state.emit("customer.created", customer, at);
  return customer;
}

function readCommon(params: Params): NewCustomer {
  const invoiceSettings = params.obj("invoice_settings");
  return {
    email: params.nullableStr("email"),
    name: params.nullableStr("name"),
    description: params.nullableStr("description"),
    phone: params.nullableStr("phone"),
    paymentMethod: invoiceSettings?.nullableStr("default_payment_method"),
  };
}

export const customerRoutes: Route[] = [
  {
    method: "POST",
    pattern: "/v1/customers",
    handler: ({ state, params }) => {
      const common = readCommon(params);
      const testClock = params.str("test_clock");
      if (testClock && !state.testClocks.has(testClock)) {
        throw noSuch("test_helpers.test_clock", testClock, "test_clock", 400);
      }
      const { toAttach, defaultId } = paymentMethodsForNewCustomer(
        state,
        params.str("payment_method"),
        common.paymentMethod,
      );
      const customer = createCustomer(state, {
        ...common,
        paymentMethod: defaultId,
        metadata: params.metadata(),
        testClock,
      });
      for (const pm of toAttach) attachPaymentMethod(state, pm.id, customer.id);
      return customer;
    },
  },
  {
    method: "GET",
    pattern: "/v1/customers",
    handler: ({ state, params }) => {
      const email = params.str("email");
      const testClock = params.str("test_clock");
      const all = state
        .newestFirst(state.customers.values())
        .filter(
          (c) =>
            (email === undefined || c.email === email) &&
            (testClock === undefined ? c.test_clock === null : c.test_clock === testClock) &&
            matchesRange(params, "created", c.created),
        );
      return paginate(all, params, "/v1/customers");
    },
  },
  {
    method: "GET",
    pattern: "/v1/customers/:id",
    handler: ({ state, path }) => getCustomer(state, path.id ?? ""),
  },
  {
    method: "POST",
    pattern: "/v1/customers/:id",
    handler: ({ state, params, path }) => {
      const customer = getCustomer(state, path.id ?? "");
      const before = structuredClone(customer);
      const common = readCommon(params);
      if (common.email !== undefined) customer.email = common.email;
      if (common.name !== undefined) customer.name = common.name;
      if (common.description !== undefined) customer.description = common.description;
      if (common.phone !== undefined) customer.phone = common.phone;
      if (common.paymentMethod !== undefined) {
        customer.invoice_settings.default_payment_method =
          common.paymentMethod === null
            ? null
            : customerPaymentMethod(
                state,
                customer.id,
                common.paymentMethod,
                "invoice_settings[default_payment_method]",
              );
      }
      const balance = params.int("balance");
      if (balance !== undefined) customer.balance = balance;
      customer.metadata = params.metadata(customer.metadata);
      const prev = previousAttributes(before, customer);
      if (Object.keys(prev).length > 0) {
        state.emit("customer.updated", customer, state.nowFor(customer.id), prev);
      }
      return customer;
    },
  },
  {
    method: "DELETE",
    pattern: "/v1/customers/:id",
    handler: ({ state, path }) => {
      const customer = getCustomer(state, path.id ?? "");
      const at = state.nowFor(customer.id);
      // Deleting a customer cancels its subscriptions (https://docs.stripe.com/api/customers/delete).
      for (const sub of state.subscriptions.values()) {
        if (sub.customer === customer.id)
          cancelSubscription(state, sub, at, "cancellation_requested");
      }
      state.customers.delete(customer.id);
      state.emit("customer.deleted", customer, at);
      return { id: customer.id, object: "customer", deleted: true };
    },
  },
];
