import { index, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { tenantId, timestamps } from "../columns";

export const members = sqliteTable(
  "members",
  {
    id: text("id").primaryKey(),
    tenantId: tenantId(),
    userId: text("user_id").notNull().unique(),
    email: text("email").notNull(),
    role: text("role").notNull(),
    ...timestamps,
  },
  (t) => [index("members_tenant_idx").on(t.tenantId)],
);
