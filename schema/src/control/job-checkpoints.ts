import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** Where a scheduled job got to (for example the Stripe events backfill: listed up to `value`). */
export const jobCheckpoints = sqliteTable("job_checkpoints", {
  name: text("name").primaryKey(),
  value: integer("value").notNull(),
  updatedAt: integer("updated_at").notNull(),
});
