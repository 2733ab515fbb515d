import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { tenantId } from "../columns";

/**
 * The tenant's in-app notifications (ADR 019), one inbox per tenant. `dedupe_key` is decided by
 * the producer before any retry (`usage:api_calls:<period>:80`, `support.start:<session>`), and
 * is unique per tenant: a redelivered queue message or webhook inserts nothing (`notify`).
 */
export const notifications = sqliteTable(
  "notifications",
  {
    id: text("id").primaryKey(),
    tenantId: tenantId(),
    kind: text("kind").notNull(),
    dedupeKey: text("dedupe_key").notNull(),
    title: text("title").notNull(),
    body: text("body"),
    /** An app path that shows more (`/billing`, `/usage`), or null. */
    link: text("link"),
    readAt: integer("read_at"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    index("notifications_tenant_idx").on(t.tenantId),
    uniqueIndex("notifications_dedupe_unique").on(t.tenantId, t.dedupeKey),
    // The unread count scans only unread rows.
    index("notifications_unread_idx").on(t.tenantId, t.readAt),
  ],
);
