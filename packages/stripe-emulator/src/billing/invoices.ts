import { ID_PREFIX, newId, randomString } from "../random.js";
import type { EmulatorState, InvoiceItemRecord, SubscriptionRecord } from "../state.js";
import { DAY } from "../time.js";
import type { Stripe, WireInvoice } from "../wire.js";
import { buildLine, customerIdOf, type LineSpec, lineOfItem } from "./lines.js";

// Invoices: drafts, finalizing (numbers, customer balance), lines added to a draft.

export interface IssueInvoice {
  id?: string;
  customer: string;
  /** Null for one-off invoices (`POST /v1/invoices`). */
  subscription: SubscriptionRecord | null;
  currency?: string;
  description?: string | null;
  metadata?: Record<string, string>;
  billingReason: Stripe.Invoice.BillingReason;
  lines: LineSpec[];
  periodStart: number;
  periodEnd: number;
  at: number;
}

/** Creates a draft invoice (emits `invoice.created`). */
export function createInvoice(state: EmulatorState, input: IssueInvoice): WireInvoice {
  const customer = state.customers.get(input.customer);
  const id = input.id ?? newId(ID_PREFIX.invoice);
  const sub = input.subscription;
  const lines = input.lines.map((spec) => buildLine(id, sub?.id ?? null, spec));
  for (const spec of input.lines) {
    const item = spec.invoiceItem ? state.invoiceItems.get(spec.invoiceItem) : undefined;
    if (item) item.invoice = id;
  }
  const collectionMethod = sub?.collection_method ?? "charge_automatically";
  const subtotal = lines.reduce((sum, line) => sum + line.amount, 0);
  const invoice: WireInvoice = {
    id,
    object: "invoice",
    account_country: "US",
    account_name: "Tenantry Stripe Emulator",
    account_tax_ids: null,
    amount_due: Math.max(0, subtotal),
    amount_overpaid: 0,
    amount_paid: 0,
    amount_remaining: Math.max(0, subtotal),
    amount_shipping: 0,
    application: null,
    attempt_count: 0,
    attempted: false,
    // One-off invoices created through the API wait for an explicit finalize.
    auto_advance: sub !== null,
    automatic_tax: {
      disabled_reason: null,
      enabled: false,
      liability: null,
      provider: null,
      status: null,
    },
    automatically_finalizes_at: null,
    billing_reason: input.billingReason,
    collection_method: collectionMethod,
    created: input.at,
    currency: sub?.currency ?? input.currency ?? "usd",
    custom_fields: null,
    customer: input.customer,
    customer_account: null,
    customer_address: customer?.address ?? null,
    customer_email: customer?.email ?? null,
    customer_name: customer?.name ?? null,
    customer_phone: customer?.phone ?? null,
    customer_shipping: null,
    customer_tax_exempt: customer?.tax_exempt ?? "none",
    customer_tax_ids: [],
    default_payment_method: null,
    default_source: null,
    default_tax_rates: [],
    description: input.description ?? null,
    discounts: [],
    due_date:
      collectionMethod === "send_invoice" ? input.at + (sub?.days_until_due ?? 30) * DAY : null,
    effective_at: null,
    ending_balance: null,
    footer: null,
    from_invoice: null,
    hosted_invoice_url: null,
    invoice_pdf: null,
    issuer: { type: "self" },
    last_finalization_error: null,
    latest_revision: null,
    lines: {
      object: "list",
      data: lines,
      has_more: false,
      url: `/v1/invoices/${id}/lines`,
    },
    livemode: false,
    metadata: input.metadata ?? {},
    next_payment_attempt: null,
    number: null,
    on_behalf_of: null,
    parent: sub
      ? {
          type: "subscription_details",
          quote_details: null,
          subscription_details: { metadata: structuredClone(sub.metadata), subscription: sub.id },
        }
      : null,
    payment_settings: {
      default_mandate: null,
      payment_method_options: null,
      payment_method_types: null,
    },
    period_end: input.periodEnd,
    period_start: input.periodStart,
    post_payment_credit_notes_amount: 0,
    pre_payment_credit_notes_amount: 0,
    receipt_number: null,
    rendering: null,
    shipping_cost: null,
    shipping_details: null,
    starting_balance: customer?.balance ?? 0,
    statement_descriptor: null,
    status: "draft",
    status_transitions: {
      finalized_at: null,
      marked_uncollectible_at: null,
      paid_at: null,
      voided_at: null,
    },
    subtotal,
    subtotal_excluding_tax: subtotal,
    test_clock: sub?.test_clock ?? customer?.test_clock ?? null,
    total: subtotal,
    total_discount_amounts: [],
    total_excluding_tax: subtotal,
    total_pretax_credit_amounts: [],
    total_taxes: [],
    webhooks_delivered_at: null,
  };
  state.invoices.set(id, invoice);
  state.track(id);
  state.emit("invoice.created", invoice, input.at);
  return invoice;
}

/**
 * Finalizing numbers the invoice and applies the customer's credit balance (negative balance),
 * so prorated credits reduce the next amount due (https://docs.stripe.com/billing/customer/balance).
 */
export function finalizeInvoice(state: EmulatorState, invoice: WireInvoice, at: number): void {
  const customerId = customerIdOf(invoice);
  const customer = state.customers.get(customerId);
  if (customer) {
    const sequence = customer.next_invoice_sequence ?? 1;
    invoice.number = `${customer.invoice_prefix ?? "EMU"}-${String(sequence).padStart(4, "0")}`;
    customer.next_invoice_sequence = sequence + 1;
    const starting = customer.balance;
    let balance = starting;
    let due = invoice.total;
    if (due < 0) {
      balance += due;
      due = 0;
    } else if (balance < 0) {
      const applied = Math.min(-balance, due);
      balance += applied;
      due -= applied;
    }
    customer.balance = balance;
    invoice.starting_balance = starting;
    invoice.ending_balance = balance;
    invoice.amount_due = due;
    invoice.amount_remaining = due;
  }
  invoice.status = "open";
  invoice.effective_at = at;
  invoice.status_transitions.finalized_at = at;
  state.emit("invoice.finalized", invoice, at);
}

/** `POST /v1/invoiceitems` with `invoice`: the item lands on that draft at once. */
export function appendInvoiceLines(
  state: EmulatorState,
  invoice: WireInvoice,
  items: InvoiceItemRecord[],
): void {
  const subId = invoice.parent?.subscription_details?.subscription;
  for (const item of items) {
    item.invoice = invoice.id;
    invoice.lines.data.push(
      buildLine(invoice.id, typeof subId === "string" ? subId : null, lineOfItem(state, item)),
    );
  }
  const subtotal = invoice.lines.data.reduce((sum, line) => sum + line.amount, 0);
  invoice.subtotal = subtotal;
  invoice.subtotal_excluding_tax = subtotal;
  invoice.total = subtotal;
  invoice.total_excluding_tax = subtotal;
  invoice.amount_due = Math.max(0, subtotal);
  invoice.amount_remaining = Math.max(0, subtotal);
}

export function invoicePrefix(): string {
  return randomString(8, "0123456789ABCDEF");
}
