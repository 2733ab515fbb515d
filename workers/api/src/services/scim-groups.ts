import { auditEntry, auditEntryWhere, insertWhere } from "@tenantry/core";
import { newId } from "@tenantry/schema";
import { members, scimGroupMembers, scimGroups, scimUsers } from "@tenantry/schema/tenant";
import { and, asc, count, eq, inArray, sql } from "drizzle-orm";
import type { ServiceContext } from "../context";
import { updateMemberRole } from "./members";
import { roleFromGroups, roleNamed } from "./scim-roles";
import { newVersion, ScimError } from "./scim-users";

export type ScimGroupRow = typeof scimGroups.$inferSelect;

export interface ScimGroupState {
  displayName: string;
  externalId: string | null;
  memberIds: string[];
}

export async function groupMemberIds(ctx: ServiceContext, groupId: string) {
  const rows = await ctx.db.orm
    .select({ id: scimGroupMembers.scimUserId })
    .from(scimGroupMembers)
    .where(eq(scimGroupMembers.groupId, groupId))
    .orderBy(asc(scimGroupMembers.scimUserId));
  return rows.map((r) => r.id);
}

export function scimGroupView(row: ScimGroupRow, memberIds: string[], base: string) {
  return {
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"],
    id: row.id,
    ...(row.externalId ? { externalId: row.externalId } : {}),
    displayName: row.displayName,
    members: memberIds.map((value) => ({ value, $ref: `${base}/scim/v2/Users/${value}` })),
    meta: {
      resourceType: "Group",
      created: new Date(row.createdAt).toISOString(),
      lastModified: new Date(row.updatedAt).toISOString(),
      version: `W/"${row.version}"`,
      location: `${base}/scim/v2/Groups/${row.id}`,
    },
  };
}

export async function getScimGroup({ ctx, input }: { ctx: ServiceContext; input: { id: string } }) {
  const row = await ctx.db.orm.select().from(scimGroups).where(eq(scimGroups.id, input.id)).get();
  if (!row) throw new ScimError(404, null, `Group ${input.id} not found.`);
  return { row, memberIds: await groupMemberIds(ctx, row.id) };
}

export async function listScimGroups({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { displayName?: string | undefined; startIndex: number; count: number };
}) {
  const where =
    input.displayName === undefined ? undefined : eq(scimGroups.displayName, input.displayName);
  const [rows, [total]] = await Promise.all([
    ctx.db.orm
      .select()
      .from(scimGroups)
      .where(where)
      .orderBy(asc(scimGroups.id))
      .limit(input.count)
      .offset(input.startIndex - 1),
    ctx.db.orm.select({ n: count() }).from(scimGroups).where(where),
  ]);
  const withMembers = await Promise.all(
    rows.map(async (row) => ({ row, memberIds: await groupMemberIds(ctx, row.id) })),
  );
  return { groups: withMembers, total: total?.n ?? 0 };
}

async function assertUsersExist(ctx: ServiceContext, ids: string[]) {
  if (ids.length === 0) return;
  const found = await ctx.db.orm
    .select({ id: scimUsers.id })
    .from(scimUsers)
    .where(inArray(scimUsers.id, ids));
  if (found.length !== new Set(ids).size) {
    throw new ScimError(400, "invalidValue", "Group members must be provisioned users.");
  }
}

const groupUniqueness = (name: string) =>
  new ScimError(409, "uniqueness", `A group named ${name} exists.`);

export async function createScimGroup({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: ScimGroupState;
}) {
  await assertUsersExist(ctx, input.memberIds);
  const now = Date.now();
  const row: ScimGroupRow = {
    id: newId("scimGroup"),
    tenantId: ctx.tenant.id,
    displayName: input.displayName,
    externalId: input.externalId,
    version: newVersion(),
    createdAt: now,
    updatedAt: now,
  };
  const ids = [...new Set(input.memberIds)];
  try {
    await ctx.db.orm.batch([
      ctx.db.orm.insert(scimGroups).values(row),
      ...ids.map((scimUserId) =>
        ctx.db.orm
          .insert(scimGroupMembers)
          .values({ tenantId: ctx.tenant.id, groupId: row.id, scimUserId }),
      ),
      auditEntry(ctx, {
        action: "scim_group.create",
        target: { type: "scim_group", id: row.id },
        after: { display_name: row.displayName, members: ids },
      }),
    ]);
  } catch (err) {
    if (/UNIQUE constraint failed/i.test(String(err))) throw groupUniqueness(input.displayName);
    throw err;
  }
  await syncRoles(ctx, row.displayName, ids);
  return { row, memberIds: ids };
}

/** PUT and PATCH: the group's new state, computed from the current one, under its version. */
export async function changeScimGroup({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: {
    id: string;
    ifMatch?: string | undefined;
    change: (current: ScimGroupState) => ScimGroupState;
  };
}) {
  const { row, memberIds } = await getScimGroup({ ctx, input });
  if (
    input.ifMatch &&
    input.ifMatch.trim() !== "*" &&
    !input.ifMatch.includes(`"${row.version}"`)
  ) {
    throw new ScimError(412, null, "The group changed since that version (If-Match).");
  }
  const desired = input.change({
    displayName: row.displayName,
    externalId: row.externalId,
    memberIds,
  });
  const wanted = [...new Set(desired.memberIds)];
  await assertUsersExist(ctx, wanted);
  const added = wanted.filter((id) => !memberIds.includes(id));
  const removed = memberIds.filter((id) => !wanted.includes(id));
  const next = {
    ...row,
    displayName: desired.displayName,
    externalId: desired.externalId,
    version: newVersion(),
    updatedAt: Date.now(),
  };
  const ours = sql`EXISTS (SELECT 1 FROM ${scimGroups} WHERE ${scimGroups.id} = ${row.id} AND ${scimGroups.version} = ${next.version})`;
  let claimed: { id: string }[];
  try {
    [claimed] = await ctx.db.orm.batch([
      ctx.db.orm
        .update(scimGroups)
        .set(next)
        .where(and(eq(scimGroups.id, row.id), eq(scimGroups.version, row.version)))
        .returning({ id: scimGroups.id }),
      ...added.map((scimUserId) =>
        insertWhere(
          ctx.db.orm,
          scimGroupMembers,
          { tenantId: ctx.tenant.id, groupId: row.id, scimUserId },
          ours,
        ),
      ),
      ctx.db.orm
        .delete(scimGroupMembers)
        .where(
          and(
            eq(scimGroupMembers.groupId, row.id),
            inArray(scimGroupMembers.scimUserId, removed.length ? removed : [""]),
            ours,
          ),
        ),
      auditEntryWhere(
        ctx,
        {
          action: "scim_group.update",
          target: { type: "scim_group", id: row.id },
          before: { display_name: row.displayName },
          after: { display_name: next.displayName, added, removed },
        },
        ours,
      ),
    ]);
  } catch (err) {
    if (/UNIQUE constraint failed/i.test(String(err))) throw groupUniqueness(desired.displayName);
    throw err;
  }
  if (claimed.length !== 1) {
    throw new ScimError(412, null, "The group changed meanwhile; read it again.");
  }
  // A rename in or out of a role's name changes every member's role.
  const renamed = next.displayName !== row.displayName;
  await syncRoles(ctx, row.displayName, renamed ? memberIds : removed);
  await syncRoles(ctx, next.displayName, renamed ? wanted : added);
  return { row: next, memberIds: wanted };
}

export async function deleteScimGroup({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { id: string };
}) {
  const { row, memberIds } = await getScimGroup({ ctx, input });
  await ctx.db.orm.batch([
    ctx.db.orm.delete(scimGroupMembers).where(eq(scimGroupMembers.groupId, row.id)),
    ctx.db.orm.delete(scimGroups).where(eq(scimGroups.id, row.id)),
    auditEntry(ctx, {
      action: "scim_group.delete",
      target: { type: "scim_group", id: row.id },
      before: { display_name: row.displayName, members: memberIds },
    }),
  ]);
  await syncRoles(ctx, row.displayName, memberIds);
}

/**
 * After users joined or left a group named like a role: each active user's role becomes the one
 * their groups give (`roleFromGroups`); owners are left alone. Each change is `updateMemberRole`,
 * audited as usual.
 */
async function syncRoles(ctx: ServiceContext, groupName: string, scimUserIds: string[]) {
  if (!roleNamed(groupName)) return;
  for (const id of scimUserIds) {
    const user = await ctx.db.orm
      .select({ memberId: scimUsers.memberId })
      .from(scimUsers)
      .where(eq(scimUsers.id, id))
      .get();
    if (!user?.memberId) continue;
    const role = await roleFromGroups(ctx, id);
    const member = await ctx.db.orm
      .select({ role: members.role })
      .from(members)
      .where(eq(members.id, user.memberId))
      .get();
    if (!member || member.role === "owner" || member.role === role) continue;
    await updateMemberRole({ ctx, input: { id: user.memberId, role } });
  }
}

/** Groups are looked up by name before an IdP creates one: `displayName eq "…"` only. */
export function parseGroupFilter(filter: string | undefined): string | undefined {
  if (filter === undefined || filter.trim() === "") return undefined;
  const m = filter.trim().match(/^displayName\s+eq\s+"((?:[^"\\]|\\.)*)"$/i);
  if (m?.[1] === undefined) {
    throw new ScimError(400, "invalidFilter", 'Supported filter: displayName eq "…".');
  }
  return m[1].replace(/\\(.)/g, "$1");
}
