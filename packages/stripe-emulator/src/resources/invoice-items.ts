import { appendInvoiceLines } from "../billing/invoices.js";
import { invalidParam, invalidRequest, missingParam, noSuch } from "../errors.js";
import { matchesRange, paginate } from "../list.js";
import type { Params } from "../params.js";
import { ID_PREFIX, newId } from "../random.js";
import type { Route } from "../router.js";
import type { EmulatorState, InvoiceItemRecord } from "../state.js";
import type { WireInvoiceItem } from "../wire.js";
import { getCustomer } from "./customers.js";
import { getPrice } from "./prices.js";

export function renderInvoiceItem(
  state: EmulatorState,
  record: InvoiceItemRecord,
): WireInvoiceItem {
  const price = record.price ? state.prices.get(record.price) : undefined;
  return {
    id: record.id,
    object: "invoiceitem",
    amount: record.amount,
    currency: record.currency,
    customer: record.customer,
    customer_account: null,
    date: record.created ?? record.period.start,
    description: record.description,
    discountable: !record.proration,
    discounts: [],
    invoice: record.invoice,
    livemode: false,
    metadata: record.metadata ?? {},
    parent: record.subscription
      ? {
          type: "subscription_details",
          subscription_details: {
            subscription: record.subscription,
            ...(record.subscriptionItem ? { subscription_item: record.subscriptionItem } : {}),
          },
        }
      : null,
    period: record.period,
    pricing: price
      ? {
          type: "price_details",
          price_details: {
            price: price.id,
            product: typeof price.product === "string" ? price.product : price.product.id,
          },
          unit_amount_decimal: price.unit_amount_decimal,
        }
      : null,
    proration: record.proration,
    quantity: record.quantity,
    quantity_decimal: String(record.quantity),
    tax_rates: [],
    test_clock: state.clockOf(record.customer)?.id ?? null,
  };
}

function getRecord(state: EmulatorState, id: string): InvoiceItemRecord {
  const record = state.invoiceItems.get(id);
  if (!record) throw noSuch("invoiceitem", id);
  return record;
}

/** `pricing[price]` (current API) or `price` (older versions) with `quantity`, else `amount` + `currency`. */
function readAmount(
  state: EmulatorState,
  params: Params,
): { amount: number; currency: string; price: string | null; quantity: number } {
  const priceId = params.obj("pricing")?.str("price") ?? params.str("price");
  const quantity = params.int("quantity") ?? 1;
  if (priceId) {
    const price = getPrice(state, priceId, "pricing[price]");
    return {
      amount: Math.round((price.unit_amount ?? Number(price.unit_amount_decimal ?? 0)) * quantity),
      currency: price.currency,
      price: price.id,
      quantity,
    };
  }
  const amount = params.int("amount");
  if (amount === undefined) throw missingParam("amount");
  return { amount, currency: params.reqStr("currency").toLowerCase(), price: null, quantity };
}

export const invoiceItemRoutes: Route[] = [
  {
    method: "POST",
    pattern: "/v1/invoiceitems",
    handler: ({ state, params }) => {
      const customer = getCustomer(state, params.reqStr("customer"), "customer");
      const at = state.nowFor(customer.id);
      const subscription = params.str("subscription") ?? null;
      if (subscription && state.subscriptions.get(subscription)?.customer !== customer.id) {
        throw noSuch("subscription", subscription, "subscription", 400);
      }
      const invoiceId = params.str("invoice");
      const invoice = invoiceId ? state.invoices.get(invoiceId) : undefined;
      if (invoiceId && !invoice) throw noSuch("invoice", invoiceId, "invoice", 400);
      if (invoice && (invoice.status !== "draft" || invoice.customer !== customer.id)) {
        throw invalidParam(
          "invoice",
          "Invoice items can only be added to draft invoices of the same customer.",
          "invoice_not_editable",
        );
      }
      const period = params.obj("period");
      const record: InvoiceItemRecord = {
        id: newId(ID_PREFIX.invoiceItem),
        customer: customer.id,
        subscription,
        subscriptionItem: null,
        ...readAmount(state, params),
        description: params.str("description") ?? "",
        period: period
          ? { start: period.reqInt("start"), end: period.reqInt("end") }
          : { start: at, end: at },
        proration: false,
        invoice: null,
        created: at,
        metadata: params.metadata(),
      };
      state.invoiceItems.set(record.id, record);
      state.track(record.id);
      if (invoice) appendInvoiceLines(state, invoice, [record]);
      const rendered = renderInvoiceItem(state, record);
      state.emit("invoiceitem.created", rendered, at);
      return rendered;
    },
  },
  {
    method: "GET",
    pattern: "/v1/invoiceitems",
    handler: ({ state, params }) => {
      const customer = params.str("customer");
      const invoice = params.str("invoice");
      const pending = params.bool("pending");
      const all = state
        .newestFirst(state.invoiceItems.values())
        .filter(
          (r) =>
            (customer === undefined || r.customer === customer) &&
            (invoice === undefined || r.invoice === invoice) &&
            (pending === undefined || (r.invoice === null) === pending) &&
            matchesRange(params, "created", r.created ?? r.period.start),
        )
        .map((r) => renderInvoiceItem(state, r));
      return paginate(all, params, "/v1/invoiceitems");
    },
  },
  {
    method: "GET",
    pattern: "/v1/invoiceitems/:id",
    handler: ({ state, path }) => renderInvoiceItem(state, getRecord(state, path.id ?? "")),
  },
  {
    method: "POST",
    pattern: "/v1/invoiceitems/:id",
    handler: ({ state, params, path }) => {
      const record = getRecord(state, path.id ?? "");
      if (record.invoice !== null && (params.has("amount") || params.has("quantity"))) {
        throw invalidRequest("Invoice items on a finalized invoice can no longer be changed.");
      }
      const amount = params.int("amount");
      if (amount !== undefined) record.amount = amount;
      const description = params.str("description");
      if (description !== undefined) record.description = description;
      record.metadata = params.metadata(record.metadata);
      return renderInvoiceItem(state, record);
    },
  },
  {
    method: "DELETE",
    pattern: "/v1/invoiceitems/:id",
    handler: ({ state, path }) => {
      const record = getRecord(state, path.id ?? "");
      if (record.invoice !== null) {
        throw invalidRequest(
          "This invoice item is already on an invoice and can no longer be deleted.",
        );
      }
      state.invoiceItems.delete(record.id);
      state.emit(
        "invoiceitem.deleted",
        { ...renderInvoiceItem(state, record), deleted: true },
        state.nowFor(record.customer),
      );
      return { id: record.id, object: "invoiceitem", deleted: true };
    },
  },
];
