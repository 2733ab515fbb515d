import { authThrottle } from "@tenantry/schema/control";
import { and, eq, inArray, sql } from "drizzle-orm";
import { controlDb } from "./control-db";
import type { CoreEnv } from "./env";
import { TooManyRequestsError } from "./problem";

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
  env: Pick<CoreEnv, "CONTROL_DB">,
  budgets: Budget[],
  detail = "Too many attempts. Try again later.",
): Promise<Taken> {
  const now = Date.now();
  const db = controlDb(env);
  const t = authThrottle;
  // One upsert per budget, each atomic: it starts a new window or counts one more attempt.
  const [first, ...rest] = budgets.map((b) => {
    const expired = sql`${t.windowStart} <= ${now - b.windowMs}`;
    return db
      .insert(t)
      .values({ key: b.key, windowStart: now, failures: 1 })
      .onConflictDoUpdate({
        target: t.key,
        set: {
          failures: sql`CASE WHEN ${expired} THEN 1 ELSE ${t.failures} + 1 END`,
          windowStart: sql`CASE WHEN ${expired} THEN ${now} ELSE ${t.windowStart} END`,
        },
      })
      .returning({ failures: t.failures, window_start: t.windowStart });
  });
  if (!first) return { budgets, windows: [] };
  const results = await db.batch([first, ...rest]);
  const windows: number[] = [];
  let retryAfterMs = 0;
  budgets.forEach((b, i) => {
    const row = results[i]?.[0];
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
 * Refuses with 429 and Retry-After, before any work, a client whose budget is already spent;
 * counts nothing. For endpoints that count only failures (`takeAttempt` after the check failed):
 * successes then cost no write, and the take stays the atomic step that decides every refusal,
 * while this read only spares a spent client the work.
 */
export async function refuseSpent(
  env: Pick<CoreEnv, "CONTROL_DB">,
  budgets: Budget[],
  detail = "Too many attempts. Try again later.",
): Promise<void> {
  const now = Date.now();
  const rows = await controlDb(env)
    .select()
    .from(authThrottle)
    .where(
      inArray(
        authThrottle.key,
        budgets.map((b) => b.key),
      ),
    );
  let retryAfterMs = 0;
  for (const row of rows) {
    const b = budgets.find((x) => x.key === row.key);
    if (b && row.windowStart > now - b.windowMs && row.failures >= b.max)
      retryAfterMs = Math.max(retryAfterMs, row.windowStart + b.windowMs - now);
  }
  if (retryAfterMs > 0) throw new TooManyRequestsError(detail, retryAfterMs / 1000);
}

/**
 * Gives a taken attempt back to the budgets at `indexes` (all by default), within the same window
 * only: a success should not count as a failure. `clear` resets a budget instead (the account's
 * counter after a successful sign-in).
 */
export async function refundAttempt(
  env: Pick<CoreEnv, "CONTROL_DB">,
  taken: Taken,
  opts: { refund?: number[]; clear?: number[] } = {},
): Promise<void> {
  const refund = opts.refund ?? (opts.clear ? [] : taken.budgets.map((_, i) => i));
  const db = controlDb(env);
  const t = authThrottle;
  const keyOf = (i: number) => taken.budgets[i]?.key ?? "";
  const [first, ...rest] = [
    ...refund.map((i) =>
      db
        .update(t)
        .set({ failures: sql`MAX(${t.failures} - 1, 0)` })
        .where(and(eq(t.key, keyOf(i)), eq(t.windowStart, taken.windows[i] ?? 0))),
    ),
    ...(opts.clear ?? []).map((i) => db.delete(t).where(eq(t.key, keyOf(i)))),
  ];
  if (first) await db.batch([first, ...rest]);
}
