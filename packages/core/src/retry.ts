/** Backoff for a queue message's failed attempt: 5 s, 10 s, 20 s, … capped at 5 minutes. */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(300, 5 * 2 ** Math.max(0, attempts - 1));
}
