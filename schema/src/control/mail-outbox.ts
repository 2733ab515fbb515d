import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** The development mailer's outbox: what would have been sent, for tests and developers. */
export const mailOutbox = sqliteTable(
  "mail_outbox",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id"),
    to: text("to").notNull(),
    subject: text("subject").notNull(),
    text: text("text").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("mail_outbox_to_idx").on(t.to)],
);
