import { payInvoice } from "../billing.js";
import { invalidRequest, noSuch } from "../errors.js";
import { matchesRange, paginate } from "../list.js";
import type { Route } from "../router.js";
import type { EmulatorState } from "../state.js";
import type { WireInvoice } from "../wire.js";

export function getInvoice(state: EmulatorState, id: string): WireInvoice {
  const invoice = state.invoices.get(id);
  if (!invoice) throw noSuch("invoice", id);
  return invoice;
}

function customerOf(invoice: WireInvoice): string | null {
  return typeof invoice.customer === "string" ? invoice.customer : null;
}

export const invoiceRoutes: Route[] = [
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
      if (invoice.status === "paid")
        throw invalidRequest("Invoice is already paid.", undefined, "invoice_already_paid");
      if (invoice.status !== "open") {
        throw invalidRequest(
          `You can only pay an invoice with status open; this invoice is ${invoice.status}.`,
          undefined,
          "invoice_not_editable",
        );
      }
      payInvoice(
        state,
        invoice,
        state.nowFor(customerOf(invoice)),
        params.bool("paid_out_of_band") ?? false,
      );
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
