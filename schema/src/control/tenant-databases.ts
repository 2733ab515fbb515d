import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * The pool of tenant databases. Rows mirror the bindings the worker has (generated from the pool
 * manifest); a database is free while `tenant_id` is null.
 */
export const tenantDatabases = sqliteTable("tenant_databases", {
  binding: text("binding").primaryKey(),
  tenantId: text("tenant_id").unique(),
  assignedAt: integer("assigned_at"),
});
