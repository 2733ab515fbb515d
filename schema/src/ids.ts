import { PRODUCT_ID_PREFIXES } from "./tenant/product/ids";

/**
 * Prefixed, time-sortable ids from one prefix map: `<prefix>_<10 chars time><16 chars random>`,
 * Crockford base32. Sorting ids sorts by creation time, which cursor pagination relies on.
 */
const PLATFORM_ID_PREFIXES = {
  tenant: "ten",
  user: "usr",
  member: "mem",
  session: "ses",
  invitation: "inv",
  apiKey: "key",
  audit: "aud",
  token: "tok",
  mail: "msg",
  request: "req",
  override: "ovr",
  operator: "opr",
  operatorSession: "ops",
  operatorToken: "opt",
  supportSession: "sup",
  fleetRun: "flr",
  /** An operator's billing re-sync, recorded in the Stripe event ledger beside Stripe's events. */
  billingResync: "rsy",
  notification: "ntf",
  recoveryCode: "rcv",
  scimToken: "sct",
  scimUser: "scu",
  scimGroup: "scg",
  ssoConnection: "ssc",
} as const;

/** The one prefix map: the platform's kinds and the product's (which may not redefine one). */
export const ID_PREFIXES = {
  ...PLATFORM_ID_PREFIXES,
  ...(PRODUCT_ID_PREFIXES satisfies Record<string, string> & {
    [K in keyof typeof PLATFORM_ID_PREFIXES]?: never;
  }),
};

export type IdKind = keyof typeof ID_PREFIXES;

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

export function newId(kind: IdKind, now = Date.now()): string {
  let time = "";
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let rand = "";
  for (const b of bytes) rand += ALPHABET[b % 32];
  return `${ID_PREFIXES[kind]}_${time}${rand}`;
}
