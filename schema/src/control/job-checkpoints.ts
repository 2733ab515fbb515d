import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** Where a scheduled job got to (for example the Stripe events backfill: listed up to `value`). */
export const jobCheckpoints = sqliteTable("job_checkpoints", {
  name: text("name").primaryKey(),
  value: integer("value").notNull(),
  /** A run in progress that the next run continues (JSON, the job's own shape); null between runs. */
  cursor: text("cursor"),
  updatedAt: integer("updated_at").notNull(),
});
