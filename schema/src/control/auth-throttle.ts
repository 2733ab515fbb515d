import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** Failed sign-in counters per account and per client, in fixed windows. */
export const authThrottle = sqliteTable("auth_throttle", {
  key: text("key").primaryKey(),
  windowStart: integer("window_start").notNull(),
  failures: integer("failures").notNull(),
});
