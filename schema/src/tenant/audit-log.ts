import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { tenantId } from "../columns";

/** Append-only tenant audit log. Snapshots never contain secrets. */
export const auditLog = sqliteTable(
  "audit_log",
  {
    id: text("id").primaryKey(),
    tenantId: tenantId(),
    actorType: text("actor_type").notNull(),
    actorId: text("actor_id").notNull(),
    action: text("action").notNull(),
    targetType: text("target_type").notNull(),
    targetId: text("target_id").notNull(),
    before: text("before"),
    after: text("after"),
    requestId: text("request_id"),
    ip: text("ip"),
    createdAt: integer("created_at").notNull(),
  },
  // The log page's filters (action, actor), each walked newest first by id.
  (t) => [
    index("audit_log_tenant_idx").on(t.tenantId),
    index("audit_log_action_idx").on(t.action, t.id),
    index("audit_log_actor_idx").on(t.actorType, t.actorId, t.id),
  ],
);
