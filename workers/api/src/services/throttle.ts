import type { Env } from "../env";
import { TooManyRequestsError } from "../errors";

/** Failed sign-ins allowed per window, per account and per client address. */
export const SIGN_IN_LIMITS = {
  account: { max: 5, windowMs: 15 * 60_000 },
  client: { max: 20, windowMs: 15 * 60_000 },
} as const;

export function throttleKeys(email: string, ip: string | null) {
  return [
    { key: `account:${email}`, ...SIGN_IN_LIMITS.account },
    { key: `client:${ip ?? "unknown"}`, ...SIGN_IN_LIMITS.client },
  ];
}
type Keys = ReturnType<typeof throttleKeys>;

export async function assertNotThrottled(env: Env, keys: Keys): Promise<void> {
  const now = Date.now();
  const rows = await env.CONTROL_DB.prepare(
    "SELECT key, window_start, failures FROM auth_throttle WHERE key IN (?, ?)",
  )
    .bind(keys[0]!.key, keys[1]!.key)
    .all<{ key: string; window_start: number; failures: number }>();
  for (const row of rows.results) {
    const limit = keys.find((k) => k.key === row.key)!;
    const resetAt = row.window_start + limit.windowMs;
    if (resetAt > now && row.failures >= limit.max) {
      throw new TooManyRequestsError(
        "Too many failed sign-in attempts. Try again later.",
        (resetAt - now) / 1000,
      );
    }
  }
}

export async function recordFailure(env: Env, keys: Keys): Promise<void> {
  const now = Date.now();
  await env.CONTROL_DB.batch(
    keys.map((k) =>
      env.CONTROL_DB.prepare(
        `INSERT INTO auth_throttle (key, window_start, failures) VALUES (?1, ?2, 1)
         ON CONFLICT (key) DO UPDATE SET
           failures = CASE WHEN window_start <= ?2 - ?3 THEN 1 ELSE failures + 1 END,
           window_start = CASE WHEN window_start <= ?2 - ?3 THEN ?2 ELSE window_start END`,
      ).bind(k.key, now, k.windowMs),
    ),
  );
}

export async function clearAccountFailures(env: Env, keys: Keys): Promise<void> {
  await env.CONTROL_DB.prepare("DELETE FROM auth_throttle WHERE key = ?").bind(keys[0]!.key).run();
}
