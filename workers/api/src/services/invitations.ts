import {
  auditEntry,
  auditEntryWhere,
  insertWhere,
  notification,
  type TenantDb,
  tenantDb,
} from "@tenantry/core";
import { hashPassword, randomSecret, sha256Hex, verifyPassword } from "@tenantry/core/crypto";
import { newId } from "@tenantry/schema";
import { users, userTenants } from "@tenantry/schema/control";
import { apiKeys, invitations, members } from "@tenantry/schema/tenant";
import { and, eq, gt, isNull, sql } from "drizzle-orm";
import { actingUserId, type ServiceContext, type TenantRequestContext } from "../context";
import { controlDb } from "../db/control-db";
import { config, type Env } from "../env";
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  UnauthorizedError,
  ValidationError,
} from "../errors";
import { listPage, type PageQuery } from "../lib/pagination";
import { isSubset, type Permission, permissionsOf, type Role } from "../rbac/permissions";
import { reserveUnit } from "./limits";
import { mailer } from "./mailer";
import { type TenantRow, tenantUrl } from "./registry";
import { createSession } from "./sessions";
import { refundAttempt, SIGN_IN_LIMITS, takeAttempt, withinLinkBudget } from "./throttle";

export const INVITATION_TTL_MS = 7 * 24 * 3600_000;

type InvitationRow = typeof invitations.$inferSelect;

export function invitationStatus(
  i: InvitationRow,
  now = Date.now(),
): "pending" | "accepted" | "revoked" | "expired" {
  if (i.acceptedAt !== null) return "accepted";
  if (i.revokedAt !== null) return "revoked";
  if (i.expiresAt <= now) return "expired";
  return "pending";
}

export function invitationView(i: InvitationRow) {
  return {
    id: i.id,
    email: i.email,
    role: i.role,
    status: invitationStatus(i),
    invited_by: i.invitedBy,
    expires_at: new Date(i.expiresAt).toISOString(),
    created_at: new Date(i.createdAt).toISOString(),
  };
}

/** Refuses members whose email address is not verified yet (403 `email_unverified`). */
export async function assertVerified(env: Env, userId: string) {
  const user = await controlDb(env)
    .select({ v: users.emailVerifiedAt })
    .from(users)
    .where(eq(users.id, userId))
    .get();
  if (!user?.v) {
    throw new ForbiddenError(
      "Verify your email address before inviting members.",
      "email_unverified",
    );
  }
}

/** Invites an email with a role no higher than the inviter's; the link is mailed, never returned. */
export async function createInvitation({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { email: string; role: Role };
}) {
  // Mail goes out in the tenant's name: whoever is behind the request (an API key's creator
  // too) must have proved their address first.
  if (ctx.actor.type === "support" && input.role === "owner") {
    throw new ForbiddenError(
      "Owners cannot be invited during support access.",
      "support_access_restricted",
    );
  }
  await assertVerified(ctx.env, actingUserId(ctx.actor));
  if (!isSubset(permissionsOf(input.role), ctx.actor.permissions)) {
    throw new ForbiddenError(
      `You cannot invite someone as ${input.role}: that role is higher than yours.`,
    );
  }
  const existingMember = await ctx.db.orm
    .select({ id: members.id })
    .from(members)
    .where(eq(members.email, input.email))
    .get();
  if (existingMember)
    throw new ConflictError("already_member", `${input.email} is already a member.`);
  const now = Date.now();
  const pending = await ctx.db.orm
    .select({ id: invitations.id })
    .from(invitations)
    .where(
      and(
        eq(invitations.email, input.email),
        isNull(invitations.acceptedAt),
        isNull(invitations.revokedAt),
        gt(invitations.expiresAt, now),
      ),
    )
    .get();
  if (pending)
    throw new ConflictError(
      "invitation_pending",
      `${input.email} already has a pending invitation.`,
    );
  const token = randomSecret();
  const row: InvitationRow = {
    id: newId("invitation"),
    tenantId: ctx.tenant.id,
    email: input.email,
    role: input.role,
    tokenHash: await sha256Hex(token),
    invitedBy: ctx.actor.id,
    expiresAt: now + INVITATION_TTL_MS,
    acceptedAt: null,
    acceptedBy: null,
    revokedAt: null,
    createdAt: now,
  };
  await ctx.db.orm.batch([
    ctx.db.orm.insert(invitations).values(row),
    auditEntry(ctx, {
      action: "invitation.create",
      target: { type: "invitation", id: row.id },
      after: invitationView(row),
    }),
  ]);
  const link = `${tenantUrl(config(ctx.env), ctx.tenant.slug)}/accept-invitation?token=${encodeURIComponent(token)}`;
  await mailer(ctx.env).send({
    to: input.email,
    tenantId: ctx.tenant.id,
    subject: `You're invited to ${ctx.tenant.name} on Tenantry`,
    text: `You have been invited to join ${ctx.tenant.name} as ${input.role}.\n\nAccept the invitation (valid for 7 days, once):\n${link}`,
  });
  return row;
}

export function listInvitations({ ctx, input }: { ctx: ServiceContext; input: PageQuery }) {
  return listPage(ctx.db, invitations, input, invitationView);
}

export async function revokeInvitation({
  ctx,
  input: { id },
}: {
  ctx: ServiceContext;
  input: { id: string };
}) {
  const row = await ctx.db.orm.select().from(invitations).where(eq(invitations.id, id)).get();
  if (!row) throw new NotFoundError("invitation");
  if (row.acceptedAt !== null)
    throw new ConflictError("invitation_accepted", "The invitation was already accepted.");
  if (row.revokedAt !== null) return;
  const now = Date.now();
  // Guarded like the acceptance's claim: of a revocation and an acceptance at once, one wins.
  // The audit entry goes first, on the same guard, so only the revocation that applies writes it.
  const guard = and(
    eq(invitations.id, id),
    isNull(invitations.acceptedAt),
    isNull(invitations.revokedAt),
  );
  const [, revoked] = await ctx.db.orm.batch([
    auditEntryWhere(
      ctx,
      {
        action: "invitation.revoke",
        target: { type: "invitation", id },
        before: invitationView(row),
        after: invitationView({ ...row, revokedAt: now }),
      },
      sql`EXISTS (SELECT 1 FROM ${invitations} WHERE ${guard})`,
    ),
    ctx.db.orm
      .update(invitations)
      .set({ revokedAt: now })
      .where(guard)
      .returning({ id: invitations.id }),
  ]);
  if (revoked.length === 1) return;
  const current = await ctx.db.orm.select().from(invitations).where(eq(invitations.id, id)).get();
  if (current?.acceptedAt != null)
    throw new ConflictError("invitation_accepted", "The invitation was already accepted.");
}

const INVALID_INVITATION = "The invitation is invalid, used, revoked or expired.";

/**
 * Whether whoever sent the invitation could still send it: a member (or an API key of a member)
 * holding `invitations:manage` and every permission of the invited role. Invitations of a member
 * who left or was demoted are revoked with the change; this catches any that slipped past.
 */
async function inviterStillMay(db: TenantDb, inv: InvitationRow): Promise<boolean> {
  let holder: ReadonlySet<Permission>;
  if (inv.invitedBy.startsWith("key_")) {
    const key = await db.orm
      .select({
        permissions: apiKeys.permissions,
        role: members.role,
        revokedAt: apiKeys.revokedAt,
        expiresAt: apiKeys.expiresAt,
      })
      .from(apiKeys)
      .innerJoin(members, eq(members.userId, apiKeys.createdBy))
      .where(eq(apiKeys.id, inv.invitedBy))
      .get();
    if (!key || key.revokedAt !== null || (key.expiresAt !== null && key.expiresAt <= Date.now()))
      return false;
    const creator = permissionsOf(key.role);
    holder = new Set((JSON.parse(key.permissions) as Permission[]).filter((p) => creator.has(p)));
  } else {
    const inviter = await db.orm
      .select({ role: members.role })
      .from(members)
      .where(eq(members.userId, inv.invitedBy))
      .get();
    if (!inviter) return false;
    holder = permissionsOf(inviter.role);
  }
  return holder.has("invitations:manage") && isSubset(permissionsOf(inv.role), holder);
}

/** The pending invitation `token` names, still sendable by its inviter; else the 400 for any other. */
async function pendingInvitation(db: TenantDb, token: string, now: number) {
  const inv = await db.orm
    .select()
    .from(invitations)
    .where(eq(invitations.tokenHash, await sha256Hex(token)))
    .get();
  if (!inv || invitationStatus(inv, now) !== "pending" || !(await inviterStillMay(db, inv))) {
    throw new ValidationError(INVALID_INVITATION, [
      { path: "body.token", message: "invalid, used, revoked or expired" },
    ]);
  }
  return inv;
}

/**
 * What the acceptance page shows before anyone accepts: the invitation behind a token, and
 * whether its email already has an account (which password to ask for). Reads only: a mail
 * scanner following the link consumes nothing.
 */
export async function previewInvitation({
  ctx,
  input,
}: {
  ctx: TenantRequestContext;
  input: { token: string };
}) {
  const inv = await withinLinkBudget(ctx.env, "invitation", ctx.ip, () =>
    pendingInvitation(tenantDb(ctx.env, ctx.tenant), input.token, Date.now()),
  );
  const account = await controlDb(ctx.env)
    .select({ id: users.id })
    .from(users)
    .where(eq(users.email, inv.email))
    .get();
  return {
    email: inv.email,
    role: inv.role,
    organization_name: ctx.tenant.name,
    account_exists: account !== undefined,
    expires_at: new Date(inv.expiresAt).toISOString(),
  };
}

/**
 * Accepts an invitation. It binds to the invited email: an existing identity proves itself with
 * its password; a new one is created with the given password (the mailed link proves the address).
 */
export async function acceptInvitation({
  ctx,
  input,
}: {
  ctx: TenantRequestContext;
  input: { token: string; password?: string | undefined };
}) {
  const { env, tenant } = ctx;
  const db = tenantDb(env, tenant);
  const now = Date.now();
  const inv = await withinLinkBudget(env, "invitation", ctx.ip, () =>
    pendingInvitation(db, input.token, now),
  );
  if (!input.password) {
    throw new ValidationError("A password is required to accept the invitation.", [
      { path: "body.password", message: "required" },
    ]);
  }
  // Acceptance checks (or hashes) a password: it gets sign-in's budgets, per invitation and per
  // client, taken atomically before any hashing.
  const taken = await takeAttempt(
    env,
    [
      { key: `accept:invitation:${inv.id}`, ...SIGN_IN_LIMITS.account },
      { key: `accept:client:${ctx.ip ?? "unknown"}`, ...SIGN_IN_LIMITS.client },
    ],
    "Too many attempts to accept this invitation. Try again later.",
  );
  // Before any identity is created: a full tenant leaves nothing behind. The seat is this
  // attempt's own (exact under concurrency), given back if the acceptance fails.
  const seat = await reserveUnit(env, tenant.id, "seats");
  try {
    const joined = await join(
      env,
      tenant,
      { ...input, password: input.password },
      inv,
      ctx,
      db,
      now,
    );
    await seat.settle();
    // A success gives the client its attempt back: one office accepting many invitations is fine.
    await refundAttempt(env, taken, { refund: [1] });
    return joined;
  } catch (err) {
    await seat.release();
    throw err;
  }
}

/** The invited identity, found or created; an identity that exists must prove its password. */
async function identityFor(env: Env, email: string, password: string, now: number) {
  const existing = await controlDb(env).select().from(users).where(eq(users.email, email)).get();
  if (existing) {
    if (!(await verifyPassword(password, existing.passwordHash)))
      throw new UnauthorizedError("Invalid email or password.");
    return existing;
  }
  const created = {
    id: newId("user"),
    email,
    passwordHash: await hashPassword(password),
    emailVerifiedAt: now,
    createdAt: now,
    updatedAt: now,
  };
  const inserted = await controlDb(env)
    .insert(users)
    .values(created)
    .onConflictDoNothing()
    .returning({ id: users.id });
  if (inserted.length === 1) return created;
  // The account appeared between the lookup and the insert: it is someone's; prove it.
  return identityFor(env, email, password, now);
}

/** The invited identity becomes a member; the seat is already reserved. */
async function join(
  env: Env,
  tenant: TenantRow,
  input: { password: string },
  inv: InvitationRow,
  ctx: { requestId: string; ip: string | null },
  db: TenantDb,
  now: number,
) {
  const user = await identityFor(env, inv.email, input.password, now);
  const already = await db.orm
    .select({ id: members.id })
    .from(members)
    .where(eq(members.userId, user.id))
    .get();
  if (already) throw new ConflictError("already_member", `${inv.email} is already a member.`);
  const member = {
    id: newId("member"),
    tenantId: tenant.id,
    userId: user.id,
    email: inv.email,
    role: inv.role,
    createdAt: now,
    updatedAt: now,
  };
  const auditCtx = {
    db,
    requestId: ctx.requestId,
    ip: ctx.ip,
    actor: { type: "user", id: user.id },
  };
  // The guarded update claims the token once; the member and its audit entries are written only
  // if this very attempt claimed it (a revoked or already used invitation writes nothing).
  const claimed = sql`EXISTS (SELECT 1 FROM ${invitations} WHERE ${invitations.id} = ${inv.id} AND ${invitations.acceptedBy} = ${user.id} AND ${invitations.acceptedAt} = ${now})`;
  const [consumed] = await db.orm.batch([
    db.orm
      .update(invitations)
      .set({ acceptedAt: now, acceptedBy: user.id })
      .where(
        and(
          eq(invitations.id, inv.id),
          isNull(invitations.acceptedAt),
          isNull(invitations.revokedAt),
          gt(invitations.expiresAt, now),
        ),
      )
      .returning({ id: invitations.id }),
    insertWhere(db.orm, members, member, claimed),
    auditEntryWhere(
      auditCtx,
      {
        action: "invitation.accept",
        target: { type: "invitation", id: inv.id },
        after: { member_id: member.id },
      },
      claimed,
    ),
    auditEntryWhere(
      auditCtx,
      {
        action: "member.join",
        target: { type: "member", id: member.id },
        after: { email: member.email, role: member.role },
      },
      claimed,
    ),
    notification(
      db,
      {
        kind: "invitation.accepted",
        dedupeKey: `invitation.accepted:${inv.id}`,
        title: `${inv.email} joined as ${inv.role}`,
        body: "They accepted the invitation.",
        link: "/members",
      },
      claimed,
      now,
    ),
  ]);
  if (consumed.length !== 1) throw new ValidationError(INVALID_INVITATION);
  await controlDb(env)
    .insert(userTenants)
    .values({ userId: user.id, tenantId: tenant.id, createdAt: now })
    .onConflictDoNothing();
  const tokens = await createSession({ ctx: { env, tenant, ...ctx }, input: { userId: user.id } });
  return { member, tokens };
}
