import { z } from "zod";
import { log } from "./log";

/**
 * A queue consumer's first step: the batch's messages whose body `schema` parses, carrying the
 * parsed body (acknowledging or retrying one acts on the delivered message). A body that does
 * not parse is logged with the reason and acknowledged: redelivering it would not make it parse,
 * and retrying it would only push it to the dead-letter queue after the backoff.
 */
export function parseMessages<T>(
  batch: MessageBatch<unknown>,
  schema: z.ZodType<T>,
  kind: string,
): Message<T>[] {
  const parsed: Message<T>[] = [];
  for (const m of batch.messages) {
    const result = schema.safeParse(m.body);
    if (result.success) {
      parsed.push({
        id: m.id,
        timestamp: m.timestamp,
        attempts: m.attempts,
        body: result.data,
        ack: () => m.ack(),
        retry: (options) => m.retry(options),
      });
    } else {
      log.error(`malformed ${kind} message dropped`, {
        id: m.id,
        reason: z.prettifyError(result.error),
      });
      m.ack();
    }
  }
  return parsed;
}
