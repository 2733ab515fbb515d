import Stripe from "stripe";
import {
  createStripeEmulator,
  type StripeEmulator,
  type StripeEmulatorOptions,
} from "../src/index.js";

export const DAY = 86_400;

export interface Harness {
  emulator: StripeEmulator;
  stripe: Stripe;
}

/** An emulator and a real `stripe` SDK client talking to it in-process. */
export function harness(options: StripeEmulatorOptions = {}): Harness {
  const emulator = createStripeEmulator({ seed: 42, ...options });
  const stripe = new Stripe("sk_test_emulator", {
    httpClient: Stripe.createFetchHttpClient(emulator.fetch),
    maxNetworkRetries: 0,
  });
  return { emulator, stripe };
}

export interface ReceivedWebhook {
  url: string;
  body: string;
  signature: string;
}

/**
 * An in-process webhook receiver for `webhooks.fetch`: records every delivery and answers with
 * the status that `respond` picks (200 by default).
 */
export function webhookSink(respond: (hook: ReceivedWebhook, index: number) => number = () => 200) {
  const received: ReceivedWebhook[] = [];
  const fetch = async (url: string, init: RequestInit): Promise<Response> => {
    const hook: ReceivedWebhook = {
      url,
      body: String(init.body),
      signature: new Headers(init.headers).get("Stripe-Signature") ?? "",
    };
    received.push(hook);
    return new Response(null, { status: respond(hook, received.length - 1) });
  };
  return { received, fetch };
}

/** A product with a monthly and a yearly price (and lookup keys `<plan>_<interval>`). */
export async function catalog(stripe: Stripe, plan = "pro", monthly = 2000) {
  const product = await stripe.products.create({ name: plan.toUpperCase(), metadata: { plan } });
  const month = await stripe.prices.create({
    product: product.id,
    currency: "usd",
    unit_amount: monthly,
    recurring: { interval: "month" },
    lookup_key: `${plan}_month`,
  });
  const year = await stripe.prices.create({
    product: product.id,
    currency: "usd",
    unit_amount: monthly * 10,
    recurring: { interval: "year" },
    lookup_key: `${plan}_year`,
  });
  return { product, month, year };
}

export async function rejection(promise: Promise<unknown>): Promise<Stripe.errors.StripeError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Stripe.errors.StripeError) return error;
    throw error;
  }
  throw new Error("expected the call to fail");
}

/**
 * A response header from `lastResponse`. The SDK types headers as a plain object (the node
 * client), but with the fetch client it is the `Headers` instance of the fetch response.
 */
export function header(
  response: { lastResponse: { headers: unknown } },
  name: string,
): string | undefined {
  const headers = response.lastResponse.headers;
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  return (headers as Record<string, string | undefined>)[name.toLowerCase()];
}
