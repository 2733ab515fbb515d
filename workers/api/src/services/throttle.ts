import { type Budget, refundAttempt, takeAttempt } from "@tenantry/core";

export {
  type Budget,
  refundAttempt,
  refuseSpent,
  type Taken,
  takeAttempt,
} from "@tenantry/core";

const MINUTE = 60_000;

/** Sign-in: per account per tenant (a lock-out on one tenant leaves the others alone) and per client. */
export const SIGN_IN_LIMITS = {
  account: { max: 5, windowMs: 15 * MINUTE },
  client: { max: 20, windowMs: 15 * MINUTE },
} as const;

export function signInBudgets(tenantId: string, email: string, ip: string | null): Budget[] {
  return [
    { key: `signin:account:${tenantId}:${email}`, ...SIGN_IN_LIMITS.account },
    { key: `signin:client:${ip ?? "unknown"}`, ...SIGN_IN_LIMITS.client },
  ];
}

/*
 * Public routes that cost a SHA-256 and a database read each, and whose answer tells a guesser
 * something. Budgets per client address (`cf-connecting-ip`) in 15-minute windows; a refusal is
 * 429 with Retry-After. Where a success gives its attempt back, only failures add up.
 */

/** Home-realm discovery per client per tenant; its own budget, so lookups never spend starts'. */
export const SSO_DISCOVER_LIMIT = { max: 60, windowMs: 15 * MINUTE } as const;
/** Starts of an SSO sign-in per client per tenant (each stores a sign-in row): people retry, scripts filling the table don't. */
export const SSO_START_LIMIT = { max: 30, windowMs: 15 * MINUTE } as const;
/**
 * Finishes per client per tenant, both protocols (the OIDC callback, the SAML ACS): each costs a
 * token exchange or a signature check and, when refused, an audit entry.
 */
export const SSO_FINISH_LIMIT = { max: 30, windowMs: 15 * MINUTE } as const;
/** Failed SCIM bearer tokens per client per tenant; a valid token costs no write. */
export const SCIM_AUTH_LIMIT = { max: 20, windowMs: 15 * MINUTE } as const;
/** Unknown, used or expired one-time tokens per client, per kind of link (valid ones refunded). */
export const LINK_TOKEN_LIMIT = { max: 30, windowMs: 15 * MINUTE } as const;

/** The one-time tokens a person brings from a mail or a redirect. */
export type LinkKind = "handoff" | "invitation" | "email_verification" | "password_reset";

const client = (ip: string | null) => ip ?? "unknown";

export const ssoDiscoverBudget = (tenantId: string, ip: string | null): Budget => ({
  key: `sso-discover:${tenantId}:${client(ip)}`,
  ...SSO_DISCOVER_LIMIT,
});
export const ssoStartBudget = (tenantId: string, ip: string | null): Budget => ({
  key: `sso-start:${tenantId}:${client(ip)}`,
  ...SSO_START_LIMIT,
});
export const ssoFinishBudget = (tenantId: string, ip: string | null): Budget => ({
  key: `sso-finish:${tenantId}:${client(ip)}`,
  ...SSO_FINISH_LIMIT,
});
export const scimAuthBudget = (tenantId: string, ip: string | null): Budget => ({
  key: `scim-auth:${tenantId}:${client(ip)}`,
  ...SCIM_AUTH_LIMIT,
});

/**
 * Looks a one-time token up (`lookup` throws when it is unknown, used or expired) within the
 * client's budget for that kind of link: the attempt is taken before the hash, and a token that
 * was found gives it back, so a person opening their link twice never adds up.
 */
export async function withinLinkBudget<T>(
  env: Parameters<typeof takeAttempt>[0],
  kind: LinkKind,
  ip: string | null,
  lookup: () => Promise<T>,
): Promise<T> {
  const taken = await takeAttempt(
    env,
    [{ key: `link:${kind}:${client(ip)}`, ...LINK_TOKEN_LIMIT }],
    "Too many invalid links tried from this address. Try again later.",
  );
  const found = await lookup();
  await refundAttempt(env, taken);
  return found;
}
