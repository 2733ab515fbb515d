// EXAMPLE PRODUCT: replace with your own product's services.

import { auditEntry } from "@tenantry/core";
import { newId } from "@tenantry/schema";
import { TASK_STATUSES, tasks } from "@tenantry/schema/tenant";
import { and, eq } from "drizzle-orm";
import type { ServiceContext } from "../context";
import { NotFoundError } from "../errors";
import { listPage, type PageQuery } from "../lib/pagination";
import { getProject } from "./projects";

export type Task = typeof tasks.$inferSelect;
type TaskStatus = (typeof TASK_STATUSES)[number];

/** The statuses a task can have (the routes validate against them). */
export { TASK_STATUSES };

export function taskView(t: Task) {
  return {
    id: t.id,
    project_id: t.projectId,
    title: t.title,
    status: t.status,
    created_at: new Date(t.createdAt).toISOString(),
    updated_at: new Date(t.updatedAt).toISOString(),
  };
}

export async function listTasks({
  ctx,
  projectId,
  page,
}: {
  ctx: ServiceContext;
  projectId: string;
  page: PageQuery;
}) {
  await getProject({ ctx, id: projectId });
  return listPage(ctx.db, tasks, page, taskView, eq(tasks.projectId, projectId));
}

export async function getTask({
  ctx,
  projectId,
  id,
}: {
  ctx: ServiceContext;
  projectId: string;
  id: string;
}) {
  const row = await ctx.db.orm
    .select()
    .from(tasks)
    .where(and(eq(tasks.id, id), eq(tasks.projectId, projectId)))
    .get();
  if (!row) throw new NotFoundError("task");
  return row;
}

export async function createTask({
  ctx,
  projectId,
  input,
}: {
  ctx: ServiceContext;
  projectId: string;
  input: { title: string; status?: TaskStatus | undefined };
}) {
  await getProject({ ctx, id: projectId });
  const now = Date.now();
  const row: Task = {
    id: newId("task"),
    tenantId: ctx.tenant.id,
    projectId,
    title: input.title,
    status: input.status ?? "todo",
    createdAt: now,
    updatedAt: now,
  };
  await ctx.db.orm.batch([
    ctx.db.orm.insert(tasks).values(row),
    auditEntry(ctx, {
      action: "task.create",
      target: { type: "task", id: row.id },
      after: taskView(row),
    }),
  ]);
  return row;
}

export async function updateTask({
  ctx,
  projectId,
  id,
  input,
}: {
  ctx: ServiceContext;
  projectId: string;
  id: string;
  input: { title?: string | undefined; status?: TaskStatus | undefined };
}) {
  const before = await getTask({ ctx, projectId, id });
  const after: Task = {
    ...before,
    title: input.title ?? before.title,
    status: input.status ?? before.status,
    updatedAt: Date.now(),
  };
  await ctx.db.orm.batch([
    ctx.db.orm
      .update(tasks)
      .set({ title: after.title, status: after.status, updatedAt: after.updatedAt })
      .where(eq(tasks.id, id)),
    auditEntry(ctx, {
      action: "task.update",
      target: { type: "task", id },
      before: taskView(before),
      after: taskView(after),
    }),
  ]);
  return after;
}

export async function deleteTask({
  ctx,
  projectId,
  id,
}: {
  ctx: ServiceContext;
  projectId: string;
  id: string;
}) {
  const before = await getTask({ ctx, projectId, id });
  await ctx.db.orm.batch([
    ctx.db.orm.delete(tasks).where(eq(tasks.id, id)),
    auditEntry(ctx, {
      action: "task.delete",
      target: { type: "task", id },
      before: taskView(before),
    }),
  ]);
}
