import type Stripe from "stripe";

export type { Stripe };

/**
 * An SDK type as it travels over HTTP. The SDK turns decimal strings (`unit_amount_decimal`, …)
 * into `Decimal` objects after parsing, so on the wire they are plain strings.
 */
export type Wire<T> = T extends string | number | boolean | bigint | symbol | null | undefined
  ? T
  : T extends Stripe.Decimal
    ? string
    : T extends (infer U)[]
      ? Wire<U>[]
      : T extends object
        ? { [K in keyof T]: Wire<T[K]> }
        : T;

export type JsonObject = Record<string, unknown>;

export interface ListObject<T> {
  object: "list";
  data: T[];
  has_more: boolean;
  url: string;
}

export type WireCustomer = Wire<Stripe.Customer>;
export type WireProduct = Wire<Stripe.Product>;
export type WirePrice = Wire<Stripe.Price>;
export type WirePlan = Wire<Stripe.Plan>;
export type WireSubscription = Wire<Stripe.Subscription>;
export type WireSubscriptionItem = Wire<Stripe.SubscriptionItem>;
export type WireInvoice = Wire<Stripe.Invoice>;
export type WireInvoiceLineItem = Wire<Stripe.InvoiceLineItem>;
export type WireCheckoutSession = Wire<Stripe.Checkout.Session>;
export type WireCheckoutLineItem = Wire<Stripe.LineItem>;
export type WirePortalSession = Wire<Stripe.BillingPortal.Session>;
export type WireMeter = Wire<Stripe.Billing.Meter>;
export type WireMeterEvent = Wire<Stripe.Billing.MeterEvent>;
export type WireMeterEventSummary = Wire<Stripe.Billing.MeterEventSummary>;
export type WireTestClock = Wire<Stripe.TestHelpers.TestClock>;
export type WireWebhookEndpoint = Wire<Stripe.WebhookEndpoint>;
export type WirePaymentMethod = Wire<Stripe.PaymentMethod>;
export type WireInvoiceItem = Wire<Stripe.InvoiceItem>;

/** `Stripe.Event` is a union of ~300 typed events; the emulator builds the common base. */
export type WireEvent = Omit<Wire<Stripe.EventBase>, "type" | "data"> & {
  type: Stripe.Event.Type;
  data: { object: JsonObject; previous_attributes?: JsonObject };
};
