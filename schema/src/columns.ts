import { integer, text } from "drizzle-orm/sqlite-core";

/** Epoch milliseconds; D1 has no date type and integers sort and compare cheaply. */
export const timestamps = {
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
};

/** Every tenant-plane table carries the tenant id (defence in depth, safe exports). */
export const tenantId = () => text("tenant_id").notNull();
