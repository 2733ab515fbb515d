import type { Budget } from "@tenantry/core";

export { type Budget, refundAttempt, type Taken, takeAttempt } from "@tenantry/core";

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
