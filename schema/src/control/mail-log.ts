import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const MAIL_STATES = [
  /** A delivery failed and the message is waiting for its next attempt; `error` says why. */
  "retrying",
  /** The mailer accepted it; `providerMessageId` is its id there. */
  "sent",
  /** Refused for good, or every attempt failed (dead-letter queue); `error` says why. */
  "failed",
] as const;

/**
 * One row per mail the MAIL queue consumer handled, keyed by the mail id decided before it was
 * enqueued: a redelivered message whose mail is already `sent` is not sent again. Bodies (which
 * hold sign-in links) are never kept here.
 */
export const mailLog = sqliteTable(
  "mail_log",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id"),
    to: text("to").notNull(),
    subject: text("subject").notNull(),
    state: text("state", { enum: MAIL_STATES }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    providerMessageId: text("provider_message_id"),
    error: text("error"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("mail_log_tenant_idx").on(t.tenantId, t.createdAt)],
);
