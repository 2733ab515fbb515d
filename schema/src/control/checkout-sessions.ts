import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * Stripe Checkout sessions this platform created, per tenant. The checkout's success redirect
 * asks Stripe about a session only when it is here for the host's tenant, so made-up or foreign
 * session ids cost no Stripe call.
 */
export const checkoutSessions = sqliteTable("checkout_sessions", {
  id: text("id").primaryKey(),
  tenantId: text("tenant_id").notNull(),
  createdAt: integer("created_at").notNull(),
});
