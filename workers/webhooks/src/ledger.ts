import { type BillingMessage, config, type Env } from "./env";

/** The fields of a Stripe event the ledger keeps: events are hints, the payload is not stored. */
export interface EventHint {
  id: string;
  type: string;
  /** Unix seconds, as Stripe sends it. */
  created: number;
  data: { object: unknown };
}

/** The customer an event is about: the object's `customer`, or the customer itself. */
export function customerOf(event: EventHint): string | null {
  const object = event.data.object as { object?: string; id?: string; customer?: unknown };
  if (object.object === "customer") return object.id ?? null;
  if (typeof object.customer === "string") return object.customer;
  const nested = object.customer as { id?: unknown } | null | undefined;
  return typeof nested?.id === "string" ? nested.id : null;
}

export type RecordOutcome = "queued" | "duplicate" | "ignored";

/**
 * Records a verified event in the ledger (insert-or-ignore on the event id) and enqueues a
 * re-sync hint for its customer. A duplicate of an event that is still queued is enqueued again:
 * the first enqueue may have been lost after the insert, and the consumer coalesces repeats. An
 * event that names no customer is recorded as ignored.
 */
export async function recordEvent(
  env: Env,
  event: EventHint,
  source: "webhook" | "backfill",
  now = Date.now(),
): Promise<RecordOutcome> {
  const customer = customerOf(event);
  // Raw on purpose: the intake's one statement per delivery (bench:webhooks measures it) records
  // the event and resolves its tenant in the same insert.
  const inserted = await env.CONTROL_DB.prepare(
    `INSERT INTO stripe_events (id, type, customer_id, tenant_id, created_at, received_at, source, state, error)
     VALUES (?1, ?2, ?3, (SELECT id FROM tenants WHERE stripe_customer_id = ?3), ?4, ?5, ?6, ?7, ?8)
     ON CONFLICT (id) DO NOTHING
     RETURNING tenant_id`,
  )
    .bind(
      event.id,
      event.type,
      customer,
      event.created * 1000,
      now,
      source,
      customer ? "queued" : "ignored",
      customer ? null : "the event names no customer",
    )
    .first<{ tenant_id: string | null }>();
  const row =
    inserted ??
    (await env.CONTROL_DB.prepare(
      "SELECT tenant_id FROM stripe_events WHERE id = ? AND state = 'queued'",
    )
      .bind(event.id)
      .first<{ tenant_id: string | null }>());
  const outcome: RecordOutcome = inserted ? (customer ? "queued" : "ignored") : "duplicate";
  if (!row || !customer) return outcome;
  const message: BillingMessage = {
    event_id: event.id,
    event_type: event.type,
    customer_id: customer,
    tenant_id: row.tenant_id,
    received_at: now,
  };
  const delay = config(env).BILLING_COALESCE_SECONDS;
  await env.BILLING_QUEUE.send(message, {
    contentType: "json",
    ...(delay > 0 ? { delaySeconds: delay } : {}),
  });
  return outcome;
}
