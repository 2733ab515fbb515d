import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const SUPPORT_MODES = ["read", "write"] as const;
export type SupportMode = (typeof SUPPORT_MODES)[number];

export const SUPPORT_SESSION_STATUSES = ["pending_approval", "active", "ended"] as const;
export type SupportSessionStatus = (typeof SUPPORT_SESSION_STATUSES)[number];

/**
 * Support access (impersonation): an operator's time-boxed, audited access to one tenant as one
 * of its users. The API worker checks the row on every support token it accepts (cached at most
 * SESSION_CACHE_TTL_SECONDS), so ending a session or letting it expire takes effect within that
 * bound. Write access waits in `pending_approval` until a second platform admin approves it.
 * Operator columns are plain ids (operators live in their own realm and may be removed later).
 */
export const supportSessions = sqliteTable(
  "support_sessions",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    operatorId: text("operator_id").notNull(),
    operatorEmail: text("operator_email").notNull(),
    /** The user whose role the operator acts with (the tenant's owner unless named). */
    userId: text("user_id").notNull(),
    reason: text("reason").notNull(),
    ticketId: text("ticket_id"),
    mode: text("mode", { enum: SUPPORT_MODES }).notNull(),
    status: text("status", { enum: SUPPORT_SESSION_STATUSES }).notNull(),
    requestedAt: integer("requested_at").notNull(),
    /** The approving operator (write mode only); never the requester. */
    approvedBy: text("approved_by"),
    startedAt: integer("started_at"),
    /** Epoch ms; set when the session becomes active, at most 60 minutes after. */
    expiresAt: integer("expires_at"),
    /** The requested length, kept until approval starts the clock. */
    durationMinutes: integer("duration_minutes").notNull(),
    endedAt: integer("ended_at"),
    endedBy: text("ended_by"),
  },
  (t) => [
    index("support_sessions_tenant_idx").on(t.tenantId, t.status),
    index("support_sessions_operator_idx").on(t.operatorId),
  ],
);
