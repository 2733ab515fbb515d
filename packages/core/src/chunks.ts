/**
 * D1 binds at most 100 parameters per statement; 90 leaves room for a statement's own
 * parameters besides the list.
 */
const D1_LIST_CHUNK = 90;

/** Queues' `sendBatch` takes at most 100 messages. */
export const QUEUE_BATCH_LIMIT = 100;

/** `items` in consecutive slices of at most `size` (none for an empty list). */
export function inChunks<T>(items: readonly T[], size = D1_LIST_CHUNK): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}
