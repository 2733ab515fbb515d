import type { Budget } from "@tenantry/core";

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
/** Failed hand-off redeems per client (a success gives its attempt back). */
export const HANDOFF_REDEEM_LIMIT = { max: 20, windowMs: 15 * MINUTE } as const;
/** Invitation previews of unknown, used or expired tokens per client (valid ones are refunded). */
export const INVITATION_PREVIEW_LIMIT = { max: 30, windowMs: 15 * MINUTE } as const;
/** Failed SCIM bearer tokens per client per tenant; a valid token costs no write. */
export const SCIM_AUTH_LIMIT = { max: 20, windowMs: 15 * MINUTE } as const;

const client = (ip: string | null) => ip ?? "unknown";

export const ssoDiscoverBudget = (tenantId: string, ip: string | null): Budget => ({
  key: `sso-discover:${tenantId}:${client(ip)}`,
  ...SSO_DISCOVER_LIMIT,
});
export const handoffRedeemBudget = (ip: string | null): Budget => ({
  key: `handoff-redeem:client:${client(ip)}`,
  ...HANDOFF_REDEEM_LIMIT,
});
export const invitationPreviewBudget = (ip: string | null): Budget => ({
  key: `invitation-preview:client:${client(ip)}`,
  ...INVITATION_PREVIEW_LIMIT,
});
export const scimAuthBudget = (tenantId: string, ip: string | null): Budget => ({
  key: `scim-auth:${tenantId}:${client(ip)}`,
  ...SCIM_AUTH_LIMIT,
});
