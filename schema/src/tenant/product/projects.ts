// EXAMPLE PRODUCT: projects and tasks are the part a team replaces with its own product.
import { index, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { tenantId, timestamps } from "../../columns";

export const projects = sqliteTable(
  "projects",
  {
    id: text("id").primaryKey(),
    tenantId: tenantId(),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    createdBy: text("created_by").notNull(),
    ...timestamps,
  },
  (t) => [index("projects_tenant_idx").on(t.tenantId)],
);
