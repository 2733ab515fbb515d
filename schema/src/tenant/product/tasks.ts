// EXAMPLE PRODUCT: projects and tasks are the part a team replaces with its own product.
import { index, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { tenantId, timestamps } from "../../columns";

export const TASK_STATUSES = ["todo", "doing", "done"] as const;

export const tasks = sqliteTable(
  "tasks",
  {
    id: text("id").primaryKey(),
    tenantId: tenantId(),
    projectId: text("project_id").notNull(),
    title: text("title").notNull(),
    status: text("status", { enum: TASK_STATUSES }).notNull(),
    ...timestamps,
  },
  (t) => [index("tasks_tenant_idx").on(t.tenantId), index("tasks_project_idx").on(t.projectId)],
);
