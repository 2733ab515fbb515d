import type { Env } from "../env";
import { TooManyRequestsError } from "../errors";

/**
 * Budgets of attempts for public endpoints that cost a hash, a mail or a third-party call.
 * An attempt is taken *before* the work, in one atomic step per budget (an upsert that returns
 * the new count), so parallel requests can never all pass a check before any is recorded.
 * Successful sign-ins give their attempt back (`refund`/`clear`), so only failures add up.
 */
export interface Budget {
  /** Names the budget and who it limits, e.g. `signin:account:<tenant id>:<email>`. */
  key: string;
  max: number;
  windowMs: number;
}

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

export interface Taken {
  budgets: Budget[];
  /** Window start of each budget's counter when the attempt was taken. */
  windows: number[];
}

/**
 * Takes one attempt from every budget, atomically per budget and in one batch. When any budget is
 * over its maximum the request is refused with 429 and Retry-After (the refused attempt still
 * counts: a flood stays refused until its window ends).
 */
export async function takeAttempt(
  env: Env,
  budgets: Budget[],
  detail = "Too many attempts. Try again later.",
): Promise<Taken> {
  const now = Date.now();
  const results = await env.CONTROL_DB.batch<{ failures: number; window_start: number }>(
    budgets.map((b) =>
      env.CONTROL_DB.prepare(
        `INSERT INTO auth_throttle (key, window_start, failures) VALUES (?1, ?2, 1)
         ON CONFLICT (key) DO UPDATE SET
           failures = CASE WHEN window_start <= ?2 - ?3 THEN 1 ELSE failures + 1 END,
           window_start = CASE WHEN window_start <= ?2 - ?3 THEN ?2 ELSE window_start END
         RETURNING failures, window_start`,
      ).bind(b.key, now, b.windowMs),
    ),
  );
  const windows: number[] = [];
  let retryAfterMs = 0;
  budgets.forEach((b, i) => {
    const row = results[i]?.results[0];
    if (!row) throw new Error(`throttle ${b.key} returned no row`);
    windows.push(row.window_start);
    if (row.failures > b.max) {
      retryAfterMs = Math.max(retryAfterMs, row.window_start + b.windowMs - now);
    }
  });
  if (retryAfterMs > 0) throw new TooManyRequestsError(detail, retryAfterMs / 1000);
  return { budgets, windows };
}

/**
 * Gives a taken attempt back to the budgets at `indexes` (all by default), within the same window
 * only: a success should not count as a failure. `clear` resets a budget instead (the account's
 * counter after a successful sign-in).
 */
export async function refundAttempt(
  env: Env,
  taken: Taken,
  opts: { refund?: number[]; clear?: number[] } = {},
): Promise<void> {
  const refund = opts.refund ?? (opts.clear ? [] : taken.budgets.map((_, i) => i));
  const statements = [
    ...refund.map((i) =>
      env.CONTROL_DB.prepare(
        "UPDATE auth_throttle SET failures = MAX(failures - 1, 0) WHERE key = ? AND window_start = ?",
      ).bind(taken.budgets[i]?.key, taken.windows[i]),
    ),
    ...(opts.clear ?? []).map((i) =>
      env.CONTROL_DB.prepare("DELETE FROM auth_throttle WHERE key = ?").bind(taken.budgets[i]?.key),
    ),
  ];
  if (statements.length > 0) await env.CONTROL_DB.batch(statements);
}
