import { auditEntry, auditEntryWhere, insertWhere, ProblemError } from "@tenantry/core";
import { newId } from "@tenantry/schema";
import { users, userTenants } from "@tenantry/schema/control";
import { members, scimGroupMembers, scimUsers } from "@tenantry/schema/tenant";
import { and, asc, count, eq, sql } from "drizzle-orm";
import type { ServiceContext } from "../context";
import { controlDb } from "../db/control-db";
import { NotFoundError } from "../errors";
import type { Role } from "../rbac/permissions";
import { reserveUnit } from "./limits";
import { removeMember } from "./members";
import { DEFAULT_ROLE, roleFromGroups } from "./scim-roles";

export type ScimUserRow = typeof scimUsers.$inferSelect;

/** The fields an IdP may set; `userName` is the member's email and never changes. */
export interface ScimUserState {
  userName: string;
  externalId: string | null;
  givenName: string | null;
  familyName: string | null;
  displayName: string | null;
  active: boolean;
}

/**
 * A SCIM protocol error (RFC 7644 §3.12): the router renders it as a SCIM error body; `scimType`
 * travels as the problem's code.
 */
export class ScimError extends ProblemError {
  constructor(status: number, scimType: string | null, detail: string) {
    super(status, scimType ?? `scim_${status}`, "SCIM error", detail, { scim_type: scimType });
  }
}

/** Identities created by provisioning have no password until the person sets one (reset, SSO). */
const NO_PASSWORD = "!scim";

const etagOf = (row: ScimUserRow) => `W/"${row.version}"`;
export const newVersion = () => crypto.randomUUID().replaceAll("-", "").slice(0, 16);

export function scimUserView(row: ScimUserRow, base: string) {
  return {
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
    id: row.id,
    ...(row.externalId ? { externalId: row.externalId } : {}),
    userName: row.userName,
    name: {
      ...(row.givenName ? { givenName: row.givenName } : {}),
      ...(row.familyName ? { familyName: row.familyName } : {}),
      formatted: [row.givenName, row.familyName].filter(Boolean).join(" ") || row.userName,
    },
    ...(row.displayName ? { displayName: row.displayName } : {}),
    active: row.active,
    emails: [{ value: row.userName, type: "work", primary: true }],
    meta: {
      resourceType: "User",
      created: new Date(row.createdAt).toISOString(),
      lastModified: new Date(row.updatedAt).toISOString(),
      version: etagOf(row),
      location: `${base}/scim/v2/Users/${row.id}`,
    },
  };
}

/** What the audit log keeps of a SCIM user (no secrets, none of the IdP's extras). */
function auditView(row: ScimUserRow) {
  return {
    user_name: row.userName,
    external_id: row.externalId,
    given_name: row.givenName,
    family_name: row.familyName,
    active: row.active,
    member_id: row.memberId,
  };
}

const lostRace = (err: unknown) => /UNIQUE constraint failed/i.test(String(err));

const uniqueness = (userName: string) =>
  new ScimError(409, "uniqueness", `${userName} is already provisioned or a member.`);

/** The control-plane identity for an email: found, or created without a password. */
async function identityFor(ctx: ServiceContext, email: string, now: number): Promise<string> {
  const db = controlDb(ctx.env);
  const existing = await db
    .select({ id: users.id })
    .from(users)
    .where(eq(users.email, email))
    .get();
  if (existing) return existing.id;
  const id = newId("user");
  const inserted = await db
    .insert(users)
    .values({
      id,
      email,
      passwordHash: NO_PASSWORD,
      emailVerifiedAt: now,
      createdAt: now,
      updatedAt: now,
    })
    .onConflictDoNothing()
    .returning({ id: users.id });
  if (inserted.length === 1) return id;
  return identityFor(ctx, email, now);
}

function newMember(
  ctx: ServiceContext,
  userId: string,
  email: string,
  now: number,
  role: Role = DEFAULT_ROLE,
) {
  return {
    id: newId("member"),
    tenantId: ctx.tenant.id,
    userId,
    email,
    role,
    createdAt: now,
    updatedAt: now,
  };
}

/**
 * Takes a seat (active users only) before anything is written, like an invitation's acceptance:
 * a full tenant leaves nothing behind, and the seat goes back if the change does not happen.
 */
async function withSeat<T>(ctx: ServiceContext, needed: boolean, write: () => Promise<T>) {
  const seat = needed ? await reserveUnit(ctx.env, ctx.tenant.id, "seats") : null;
  try {
    const result = await write();
    await seat?.settle();
    return result;
  } catch (err) {
    await seat?.release();
    throw err;
  }
}

/** The member joins the sign-in index once the batch that made them a member is written. */
async function indexMember(ctx: ServiceContext, userId: string, now: number) {
  await controlDb(ctx.env)
    .insert(userTenants)
    .values({ userId, tenantId: ctx.tenant.id, createdAt: now })
    .onConflictDoNothing();
}

/**
 * Provisions a user: the SCIM resource and, when active, the member (one batch, so the unique
 * `user_name` and member `user_id` make concurrent creates of one person a single 201).
 */
export async function createScimUser({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: ScimUserState;
}) {
  const now = Date.now();
  const existing = await ctx.db.orm
    .select({ id: members.id })
    .from(members)
    .where(eq(members.email, input.userName))
    .get();
  if (existing) throw uniqueness(input.userName);
  return withSeat(ctx, input.active, async () => {
    const userId = await identityFor(ctx, input.userName, now);
    const member = input.active ? newMember(ctx, userId, input.userName, now) : null;
    const row: ScimUserRow = {
      id: newId("scimUser"),
      tenantId: ctx.tenant.id,
      ...input,
      userId,
      memberId: member?.id ?? null,
      version: newVersion(),
      createdAt: now,
      updatedAt: now,
    };
    try {
      await ctx.db.orm.batch([
        ctx.db.orm.insert(scimUsers).values(row),
        ...(member
          ? [
              ctx.db.orm.insert(members).values(member),
              auditEntry(ctx, {
                action: "member.join",
                target: { type: "member", id: member.id },
                after: { email: member.email, role: member.role },
              }),
            ]
          : []),
        auditEntry(ctx, {
          action: "scim_user.create",
          target: { type: "scim_user", id: row.id },
          after: auditView(row),
        }),
      ]);
    } catch (err) {
      if (lostRace(err)) throw uniqueness(input.userName);
      throw err;
    }
    if (member) await indexMember(ctx, userId, now);
    return row;
  });
}

export async function getScimUser({ ctx, input }: { ctx: ServiceContext; input: { id: string } }) {
  const row = await ctx.db.orm.select().from(scimUsers).where(eq(scimUsers.id, input.id)).get();
  if (!row) throw new ScimError(404, null, `User ${input.id} not found.`);
  return row;
}

/** The filters IdPs send to find a user before creating it (RFC 7644 §3.4.2.2, `eq` only). */
export type ScimFilter = { attribute: "userName" | "externalId"; value: string };

export function parseFilter(filter: string | undefined): ScimFilter | undefined {
  if (filter === undefined || filter.trim() === "") return undefined;
  const m = filter.trim().match(/^(userName|externalId)\s+eq\s+"((?:[^"\\]|\\.)*)"$/i);
  if (!m?.[1] || m[2] === undefined) {
    throw new ScimError(
      400,
      "invalidFilter",
      'Supported filters: userName eq "…", externalId eq "…".',
    );
  }
  const attribute = m[1].toLowerCase() === "username" ? "userName" : "externalId";
  const value = m[2].replace(/\\(.)/g, "$1");
  return { attribute, value: attribute === "userName" ? value.toLowerCase() : value };
}

/** One page of users, oldest first (stable for 1-based `startIndex` paging). */
export async function listScimUsers({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { filter?: ScimFilter | undefined; startIndex: number; count: number };
}) {
  const where = input.filter
    ? eq(
        input.filter.attribute === "userName" ? scimUsers.userName : scimUsers.externalId,
        input.filter.value,
      )
    : undefined;
  const [rows, [total]] = await Promise.all([
    ctx.db.orm
      .select()
      .from(scimUsers)
      .where(where)
      .orderBy(asc(scimUsers.id))
      .limit(input.count)
      .offset(input.startIndex - 1),
    ctx.db.orm.select({ n: count() }).from(scimUsers).where(where),
  ]);
  return { rows, total: total?.n ?? 0 };
}

/**
 * Applies a change computed from the current state (PUT and PATCH), guarded by the version it was
 * computed from: with If-Match a lost race is a 412, without it the change is recomputed.
 */
export async function changeScimUser({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: {
    id: string;
    ifMatch?: string | undefined;
    change: (current: ScimUserState) => ScimUserState;
  };
}) {
  for (let attempt = 0; attempt < 3; attempt++) {
    const current = await getScimUser({ ctx, input });
    assertMatches(current, input.ifMatch);
    const desired = input.change(current);
    if (desired.userName !== current.userName) {
      throw new ScimError(400, "mutability", "userName is the member's email and cannot change.");
    }
    // IdPs re-send unchanged users on every sync: no new version, no audit entry.
    if (unchanged(current, desired)) return current;
    const applied = await apply(ctx, current, desired);
    if (applied) return applied;
    if (input.ifMatch) throw preconditionFailed();
  }
  throw new ScimError(409, null, "The user kept changing meanwhile; retry.");
}

const unchanged = (row: ScimUserRow, s: ScimUserState) =>
  (Object.keys(s) as (keyof ScimUserState)[]).every((k) => row[k] === s[k]);

function assertMatches(row: ScimUserRow, ifMatch: string | undefined) {
  if (ifMatch === undefined || ifMatch.trim() === "*") return;
  const tags = ifMatch.split(",").map((t) => t.trim().replace(/^W\//, ""));
  if (!tags.includes(`"${row.version}"`)) throw preconditionFailed();
}

const preconditionFailed = () =>
  new ScimError(412, null, "The user changed since that version (If-Match does not match).");

/** One guarded write of the SCIM row; null when another change won the race. */
async function apply(
  ctx: ServiceContext,
  current: ScimUserRow,
  desired: ScimUserState,
): Promise<ScimUserRow | null> {
  const now = Date.now();
  const next: ScimUserRow = { ...current, ...desired, version: newVersion(), updatedAt: now };
  const guard = and(eq(scimUsers.id, current.id), eq(scimUsers.version, current.version));
  const ours = sql`EXISTS (SELECT 1 FROM ${scimUsers} WHERE ${scimUsers.id} = ${current.id} AND ${scimUsers.version} = ${next.version})`;
  if (desired.active && !current.active) return reactivate(ctx, current, next, guard, ours);
  if (!desired.active && current.active) return deactivate(ctx, current, next, guard, ours);
  const [updated] = await ctx.db.orm.batch([
    ctx.db.orm.update(scimUsers).set(next).where(guard).returning({ id: scimUsers.id }),
    auditEntryWhere(
      ctx,
      {
        action: "scim_user.update",
        target: { type: "scim_user", id: current.id },
        before: auditView(current),
        after: auditView(next),
      },
      ours,
    ),
  ]);
  return updated.length === 1 ? next : null;
}

/** Reactivation takes a seat and makes the person a member again, in one guarded batch. */
function reactivate(
  ctx: ServiceContext,
  current: ScimUserRow,
  next: ScimUserRow,
  guard: ReturnType<typeof and>,
  ours: ReturnType<typeof sql>,
) {
  return withSeat(ctx, true, async () => {
    // Back with the role their groups give (a user in the admin group comes back an admin).
    const role = await roleFromGroups(ctx, current.id);
    const member = newMember(ctx, current.userId, current.userName, next.updatedAt, role);
    next.memberId = member.id;
    let claimed: { id: string }[];
    try {
      [claimed] = await ctx.db.orm.batch([
        ctx.db.orm.update(scimUsers).set(next).where(guard).returning({ id: scimUsers.id }),
        insertWhere(ctx.db.orm, members, member, ours),
        auditEntryWhere(
          ctx,
          {
            action: "scim_user.reactivate",
            target: { type: "scim_user", id: current.id },
            before: auditView(current),
            after: auditView(next),
          },
          ours,
        ),
      ]);
    } catch (err) {
      // The person became a member another way meanwhile (an invitation).
      if (lostRace(err)) throw uniqueness(current.userName);
      throw err;
    }
    if (claimed.length !== 1) throw new LostRace();
    await indexMember(ctx, current.userId, next.updatedAt);
    return next;
  }).catch((err: unknown) => {
    if (err instanceof LostRace) return null;
    throw err;
  });
}

/** Internal: the guarded write matched nothing; the seat is given back by `withSeat`. */
class LostRace extends Error {}

/**
 * Deactivation removes the membership the way removing a member does (sessions and API keys
 * revoked at once, invitations revoked, seat given back): `removeMember` is that one path.
 */
async function deactivate(
  ctx: ServiceContext,
  current: ScimUserRow,
  next: ScimUserRow,
  guard: ReturnType<typeof and>,
  ours: ReturnType<typeof sql>,
) {
  const memberId = current.memberId;
  if (memberId) {
    const member = await ctx.db.orm.select().from(members).where(eq(members.id, memberId)).get();
    if (member?.role === "owner") {
      throw new ScimError(
        403,
        null,
        "Owners are not deprovisioned through SCIM; demote them first.",
      );
    }
  }
  next.memberId = null;
  const [claimed] = await ctx.db.orm.batch([
    ctx.db.orm.update(scimUsers).set(next).where(guard).returning({ id: scimUsers.id }),
    auditEntryWhere(
      ctx,
      {
        action: "scim_user.deactivate",
        target: { type: "scim_user", id: current.id },
        before: auditView(current),
        after: auditView(next),
      },
      ours,
    ),
  ]);
  if (claimed.length !== 1) return null;
  if (memberId) {
    await removeMember({ ctx, input: { id: memberId } }).catch((err: unknown) => {
      // Removed in the app meanwhile: the membership is gone either way.
      if (!(err instanceof NotFoundError)) throw err;
    });
  }
  return next;
}

/** Deletion deactivates first (the member goes, the seat comes back), then forgets the resource. */
export async function deleteScimUser({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { id: string; ifMatch?: string | undefined };
}) {
  const row = await changeScimUser({
    ctx,
    input: { ...input, change: (s) => ({ ...s, active: false }) },
  });
  const gone = sql`NOT EXISTS (SELECT 1 FROM ${scimUsers} WHERE ${scimUsers.id} = ${row.id})`;
  await ctx.db.orm.batch([
    ctx.db.orm.delete(scimUsers).where(eq(scimUsers.id, row.id)),
    ctx.db.orm.delete(scimGroupMembers).where(eq(scimGroupMembers.scimUserId, row.id)),
    auditEntryWhere(
      ctx,
      {
        action: "scim_user.delete",
        target: { type: "scim_user", id: row.id },
        before: auditView(row),
      },
      gone,
    ),
  ]);
}
