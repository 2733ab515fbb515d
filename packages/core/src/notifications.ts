import { newId } from "@tenantry/schema";
import { notifications } from "@tenantry/schema/tenant";
import type { SQL } from "drizzle-orm";
import { insertWhere } from "./conditional";
import type { TenantDb } from "./tenant-db";

/** What a tenant is told about (ADR 019): a closed list, so the app can explain each kind. */
export const NOTIFICATION_KINDS = [
  "billing.payment_failed",
  "billing.plan_changed",
  "usage.threshold",
  "invitation.accepted",
  "support.started",
  "support.ended",
] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

export interface NotifyInput {
  kind: NotificationKind;
  /**
   * Names the event, decided before any retry (`support.start:<session id>`): a second notify
   * with the same key in the same tenant inserts nothing.
   */
  dedupeKey: string;
  title: string;
  body?: string | null;
  /** An app path that shows more (`/billing`, `/usage`). */
  link?: string | null;
}

function row(db: TenantDb, input: NotifyInput, now: number): typeof notifications.$inferInsert {
  return {
    id: newId("notification", now),
    tenantId: db.tenantId,
    kind: input.kind,
    dedupeKey: input.dedupeKey,
    title: input.title,
    body: input.body ?? null,
    link: input.link ?? null,
    readAt: null,
    createdAt: now,
  };
}

/**
 * The statement that notifies, for a producer's own `db.batch` (so the notification lands with
 * the change it tells of): insert-or-ignore on (tenant, dedupe key), one atomic step. With
 * `condition`, it is written only if that holds when its turn in the batch comes.
 */
export function notification(db: TenantDb, input: NotifyInput, condition?: SQL, now = Date.now()) {
  const values = row(db, input, now);
  return (
    condition
      ? insertWhere(db.orm, notifications, values, condition)
      : db.orm.insert(notifications).values(values)
  ).onConflictDoNothing({ target: [notifications.tenantId, notifications.dedupeKey] });
}

/** The one notify verb: true if this call created it, false if its dedupe key already had one. */
export async function notify(db: TenantDb, input: NotifyInput): Promise<boolean> {
  const created = await notification(db, input).returning({ id: notifications.id });
  return created.length === 1;
}
