/** Seedable PRNG (mulberry32) so chaos runs are reproducible from a seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

export function randomString(length: number, alphabet = ALPHABET): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  let out = "";
  for (const byte of bytes) out += alphabet[byte % alphabet.length];
  return out;
}

/** Stripe-style ids: a type prefix and a random tail (`cus_`, `sub_`, test-mode `cs_test_`). */
export const ID_PREFIX = {
  customer: "cus_",
  product: "prod_",
  price: "price_",
  subscription: "sub_",
  subscriptionItem: "si_",
  invoice: "in_",
  invoiceLine: "il_",
  invoiceItem: "ii_",
  checkoutSession: "cs_test_",
  checkoutLineItem: "li_",
  portalSession: "bps_",
  portalConfiguration: "bpc_",
  meter: "mtr_",
  meterEventSummary: "mtrusg_",
  event: "evt_",
  testClock: "clock_",
  webhookEndpoint: "we_",
  webhookSecret: "whsec_",
  paymentMethod: "pm_",
  setupIntent: "seti_",
  paymentIntent: "pi_",
  request: "req_",
} as const;

export function newId(prefix: string, length = 24): string {
  return prefix + randomString(length);
}
