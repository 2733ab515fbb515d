import { createInvoice, finalizeInvoice } from "../billing/invoices.js";
import { takePendingItems } from "../billing/lines.js";
import { attemptInvoicePayment, payInvoice } from "../billing/payments.js";
import { invalidRequest, noSuch } from "../errors.js";
import { matchesRange, paginate } from "../list.js";
import type { Route } from "../router.js";
import { type EmulatorState, previousAttributes } from "../state.js";
import type { WireInvoice } from "../wire.js";
import { getCustomer } from "./customers.js";
import { customerPaymentMethod } from "./payment-methods.js";

export function getInvoice(state: EmulatorState, id: string): WireInvoice {
  const invoice = state.invoices.get(id);
  if (!invoice) throw noSuch("invoice", id);
  return invoice;
}

function customerOf(invoice: WireInvoice): string | null {
  return typeof invoice.customer === "string" ? invoice.customer : null;
}

function notDraft(action: string): never {
  throw invalidRequest(
    `You can only ${action} a draft invoice.`,
    undefined,
    "invoice_not_editable",
  );
}

/** Finalizing an invoice with nothing to pay marks it paid at once, as Stripe does. */
function finalize(state: EmulatorState, invoice: WireInvoice, at: number): void {
  finalizeInvoice(state, invoice, at);
  if (invoice.amount_due === 0) attemptInvoicePayment(state, invoice, at, false);
}

export const invoiceRoutes: Route[] = [
  {
    method: "POST",
    pattern: "/v1/invoices",
    handler: ({ state, params }) => {
      const customer = getCustomer(state, params.reqStr("customer"), "customer");
      if (params.has("subscription")) {
        throw invalidRequest(
          "The Stripe emulator creates subscription invoices itself; create one-off invoices without `subscription`.",
          "subscription",
        );
      }
      const behavior =
        params.enumOf("pending_invoice_items_behavior", ["include", "exclude"] as const) ??
        "exclude";
      const lines = behavior === "include" ? takePendingItems(state, customer.id, null) : [];
      const invoice = createInvoice(state, {
        customer: customer.id,
        subscription: null,
        currency: params.str("currency")?.toLowerCase() ?? lines[0]?.currency,
        description: params.str("description") ?? null,
        metadata: params.metadata(),
        billingReason: "manual",
        lines,
        periodStart: state.nowFor(customer.id),
        periodEnd: state.nowFor(customer.id),
        at: state.nowFor(customer.id),
      });
      const autoAdvance = params.bool("auto_advance");
      if (autoAdvance !== undefined) invoice.auto_advance = autoAdvance;
      return invoice;
    },
  },
  {
    method: "POST",
    pattern: "/v1/invoices/:id",
    handler: ({ state, params, path }) => {
      const invoice = getInvoice(state, path.id ?? "");
      const before = structuredClone(invoice);
      const description = params.nullableStr("description");
      const autoAdvance = params.bool("auto_advance");
      if ((description !== undefined || autoAdvance !== undefined) && invoice.status !== "draft")
        notDraft("update the description or auto_advance of");
      if (description !== undefined) invoice.description = description;
      if (autoAdvance !== undefined) invoice.auto_advance = autoAdvance;
      invoice.metadata = params.metadata(invoice.metadata ?? {});
      const prev = previousAttributes(before, invoice);
      if (Object.keys(prev).length > 0)
        state.emit("invoice.updated", invoice, state.nowFor(customerOf(invoice)), prev);
      return invoice;
    },
  },
  {
    method: "DELETE",
    pattern: "/v1/invoices/:id",
    handler: ({ state, path }) => {
      const invoice = getInvoice(state, path.id ?? "");
      if (invoice.status !== "draft") notDraft("delete");
      // Its invoice items become pending again (https://docs.stripe.com/api/invoices/delete).
      for (const item of state.invoiceItems.values()) {
        if (item.invoice === invoice.id) item.invoice = null;
      }
      state.invoices.delete(invoice.id);
      state.emit("invoice.deleted", invoice, state.nowFor(customerOf(invoice)));
      return { id: invoice.id, object: "invoice", deleted: true };
    },
  },
  {
    method: "POST",
    pattern: "/v1/invoices/:id/finalize",
    handler: ({ state, params, path }) => {
      const invoice = getInvoice(state, path.id ?? "");
      if (invoice.status !== "draft") notDraft("finalize");
      const autoAdvance = params.bool("auto_advance");
      if (autoAdvance !== undefined) invoice.auto_advance = autoAdvance;
      finalize(state, invoice, state.nowFor(customerOf(invoice)));
      return invoice;
    },
  },
  {
    method: "GET",
    pattern: "/v1/invoices",
    handler: ({ state, params }) => {
      const customer = params.str("customer");
      const subscription = params.str("subscription");
      const status = params.enumOf("status", [
        "draft",
        "open",
        "paid",
        "uncollectible",
        "void",
      ] as const);
      const all = state
        .newestFirst(state.invoices.values())
        .filter(
          (inv) =>
            (customer === undefined || inv.customer === customer) &&
            (subscription === undefined ||
              inv.parent?.subscription_details?.subscription === subscription) &&
            (status === undefined || inv.status === status) &&
            matchesRange(params, "created", inv.created),
        );
      return paginate(all, params, "/v1/invoices");
    },
  },
  {
    method: "GET",
    pattern: "/v1/invoices/:id",
    handler: ({ state, path }) => getInvoice(state, path.id ?? ""),
  },
  {
    method: "GET",
    pattern: "/v1/invoices/:id/lines",
    handler: ({ state, params, path }) => {
      const invoice = getInvoice(state, path.id ?? "");
      return paginate([...invoice.lines.data], params, invoice.lines.url);
    },
  },
  {
    method: "POST",
    pattern: "/v1/invoices/:id/pay",
    handler: ({ state, params, path }) => {
      const invoice = getInvoice(state, path.id ?? "");
      const customer = customerOf(invoice);
      const at = state.nowFor(customer);
      if (invoice.status === "paid")
        throw invalidRequest("Invoice is already paid.", undefined, "invoice_already_paid");
      if (invoice.status !== "open" && invoice.status !== "draft") {
        throw invalidRequest(
          `You can only pay an invoice with status open; this invoice is ${invoice.status}.`,
          undefined,
          "invoice_not_editable",
        );
      }
      const pmParam = params.str("payment_method");
      const paymentMethod =
        pmParam && customer
          ? customerPaymentMethod(state, customer, pmParam, "payment_method")
          : null;
      // Paying a draft finalizes it first, which settles a $0 invoice on the spot
      // (https://docs.stripe.com/api/invoices/pay).
      if (invoice.status === "draft") finalize(state, invoice, at);
      if (invoice.status === "open") {
        payInvoice(state, invoice, at, params.bool("paid_out_of_band") ?? false, paymentMethod);
      }
      return invoice;
    },
  },
  {
    method: "POST",
    pattern: "/v1/invoices/:id/void",
    handler: ({ state, path }) => {
      const invoice = getInvoice(state, path.id ?? "");
      if (invoice.status !== "open")
        throw invalidRequest(
          "You can only void an open invoice.",
          undefined,
          "invoice_not_editable",
        );
      const at = state.nowFor(customerOf(invoice));
      invoice.status = "void";
      invoice.next_payment_attempt = null;
      invoice.amount_remaining = 0;
      invoice.status_transitions.voided_at = at;
      state.emit("invoice.voided", invoice, at);
      return invoice;
    },
  },
  {
    method: "POST",
    pattern: "/v1/invoices/:id/mark_uncollectible",
    handler: ({ state, path }) => {
      const invoice = getInvoice(state, path.id ?? "");
      if (invoice.status !== "open")
        throw invalidRequest(
          "You can only mark an open invoice as uncollectible.",
          undefined,
          "invoice_not_editable",
        );
      const at = state.nowFor(customerOf(invoice));
      invoice.status = "uncollectible";
      invoice.next_payment_attempt = null;
      invoice.status_transitions.marked_uncollectible_at = at;
      state.emit("invoice.marked_uncollectible", invoice, at);
      return invoice;
    },
  },
];
