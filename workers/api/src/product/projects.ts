// EXAMPLE PRODUCT: replace with your own product's services.

import { auditEntry } from "@tenantry/core";
import { newId } from "@tenantry/schema";
import { projects, tasks } from "@tenantry/schema/tenant";
import { eq } from "drizzle-orm";
import type { ServiceContext } from "../context";
import { NotFoundError } from "../errors";
import { listPage, type PageQuery } from "../lib/pagination";
import { releaseUnit, reserveUnit } from "../services/limits";

export type Project = typeof projects.$inferSelect;

export function projectView(p: Project) {
  return {
    id: p.id,
    name: p.name,
    description: p.description,
    created_by: p.createdBy,
    created_at: new Date(p.createdAt).toISOString(),
    updated_at: new Date(p.updatedAt).toISOString(),
  };
}

export function listProjects({ ctx, page }: { ctx: ServiceContext; page: PageQuery }) {
  return listPage(ctx.db, projects, page, projectView);
}

export async function getProject({
  ctx,
  id,
}: {
  ctx: ServiceContext;
  id: string;
}): Promise<Project> {
  const row = await ctx.db.orm.select().from(projects).where(eq(projects.id, id)).get();
  if (!row) throw new NotFoundError("project");
  return row;
}

export async function createProject({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { name: string; description?: string | undefined };
}) {
  const id = newId("project");
  const unit = await reserveUnit(ctx.env, ctx.tenant.id, "projects");
  const now = Date.now();
  const row: Project = {
    id,
    tenantId: ctx.tenant.id,
    name: input.name,
    description: input.description ?? "",
    createdBy: ctx.actor.id,
    createdAt: now,
    updatedAt: now,
  };
  try {
    await ctx.db.orm.batch([
      ctx.db.orm.insert(projects).values(row),
      auditEntry(ctx, {
        action: "project.create",
        target: { type: "project", id: row.id },
        after: projectView(row),
      }),
    ]);
  } catch (err) {
    await unit.release();
    throw err;
  }
  await unit.settle();
  return row;
}

export async function updateProject({
  ctx,
  id,
  input,
}: {
  ctx: ServiceContext;
  id: string;
  input: { name?: string | undefined; description?: string | undefined };
}) {
  const before = await getProject({ ctx, id });
  const after: Project = {
    ...before,
    name: input.name ?? before.name,
    description: input.description ?? before.description,
    updatedAt: Date.now(),
  };
  await ctx.db.orm.batch([
    ctx.db.orm
      .update(projects)
      .set({ name: after.name, description: after.description, updatedAt: after.updatedAt })
      .where(eq(projects.id, id)),
    auditEntry(ctx, {
      action: "project.update",
      target: { type: "project", id },
      before: projectView(before),
      after: projectView(after),
    }),
  ]);
  return after;
}

/** Deleting a project deletes its tasks in the same batch. */
export async function deleteProject({ ctx, id }: { ctx: ServiceContext; id: string }) {
  const before = await getProject({ ctx, id });
  await ctx.db.orm.batch([
    ctx.db.orm.delete(tasks).where(eq(tasks.projectId, id)),
    ctx.db.orm.delete(projects).where(eq(projects.id, id)),
    auditEntry(ctx, {
      action: "project.delete",
      target: { type: "project", id },
      before: projectView(before),
    }),
  ]);
  await releaseUnit(ctx.env, ctx.tenant.id, "projects", `project:${id}`);
}
