import { auditEntry, type TenantDb, tenantDb } from "@tenantry/core";
import { randomSecret, sha256Hex } from "@tenantry/core/crypto";
import { newId } from "@tenantry/schema";
import { scimTokens } from "@tenantry/schema/tenant";
import { and, eq, isNull } from "drizzle-orm";
import type { Actor, ServiceContext, TenantRequestContext } from "../context";
import { ForbiddenError, NotFoundError, UnauthorizedError } from "../errors";
import { listPage, type PageQuery } from "../lib/pagination";
import { permissionsOf } from "../rbac/permissions";
import { requireRecentMfa } from "./mfa";
import { refuseSpent, scimAuthBudget, takeAttempt } from "./throttle";

/** Distinct from API keys (`tnry_`): a SCIM token opens only `/scim/v2`, an API key never does. */
export const SCIM_TOKEN_PREFIX = "scim_";

type ScimTokenRow = typeof scimTokens.$inferSelect;

export function scimTokenView(t: ScimTokenRow) {
  const iso = (v: number | null) => (v === null ? null : new Date(v).toISOString());
  return {
    id: t.id,
    name: t.name,
    start: t.start,
    created_by: t.createdBy,
    revoked_at: iso(t.revokedAt),
    created_at: new Date(t.createdAt).toISOString(),
  };
}

/** Provisioning can add and remove anyone below owner: only an owner hands that out. */
function assertOwner(ctx: ServiceContext) {
  if (ctx.actor.type !== "user" || ctx.actor.role !== "owner") {
    throw new ForbiddenError("Only a signed-in owner manages SCIM tokens.", "owner_required");
  }
}

/** Creates a token for an identity provider; the token is returned once, only its hash is kept. */
export async function createScimToken({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { name: string };
}) {
  assertOwner(ctx);
  // A SCIM token creates and removes members: as sensitive as an API key (ADR 023).
  await requireRecentMfa(ctx);
  const token = `${SCIM_TOKEN_PREFIX}${randomSecret(32)}`;
  const row: ScimTokenRow = {
    id: newId("scimToken"),
    tenantId: ctx.tenant.id,
    name: input.name,
    start: token.slice(0, SCIM_TOKEN_PREFIX.length + 4),
    tokenHash: await sha256Hex(token),
    createdBy: ctx.actor.id,
    revokedAt: null,
    createdAt: Date.now(),
  };
  await ctx.db.orm.batch([
    ctx.db.orm.insert(scimTokens).values(row),
    auditEntry(ctx, {
      action: "scim_token.create",
      target: { type: "scim_token", id: row.id },
      after: scimTokenView(row),
    }),
  ]);
  return { ...scimTokenView(row), token };
}

export function listScimTokens({ ctx, input }: { ctx: ServiceContext; input: PageQuery }) {
  assertOwner(ctx);
  return listPage(ctx.db, scimTokens, input, scimTokenView);
}

/** Revocation is immediate: tokens are looked up on every request, never cached. */
export async function revokeScimToken({
  ctx,
  input: { id },
}: {
  ctx: ServiceContext;
  input: { id: string };
}) {
  assertOwner(ctx);
  const row = await ctx.db.orm.select().from(scimTokens).where(eq(scimTokens.id, id)).get();
  if (!row) throw new NotFoundError("SCIM token");
  if (row.revokedAt !== null) return;
  const now = Date.now();
  await ctx.db.orm.batch([
    ctx.db.orm
      .update(scimTokens)
      .set({ revokedAt: now })
      .where(and(eq(scimTokens.id, id), isNull(scimTokens.revokedAt))),
    auditEntry(ctx, {
      action: "scim_token.revoke",
      target: { type: "scim_token", id },
      before: scimTokenView(row),
      after: scimTokenView({ ...row, revokedAt: now }),
    }),
  ]);
}

// Every member-management check passes (a billing member can be deprovisioned too); the SCIM
// verbs themselves refuse to touch owners.
const SCIM_PERMISSIONS = permissionsOf("owner");

/** The actor behind a SCIM bearer token of this tenant, or null (unknown, revoked, not SCIM's). */
export async function authenticateScimToken(
  db: TenantDb,
  credential: string,
): Promise<Extract<Actor, { type: "scim_token" }> | null> {
  if (!credential.startsWith(SCIM_TOKEN_PREFIX)) return null;
  const row = await db.orm
    .select({ id: scimTokens.id, createdBy: scimTokens.createdBy })
    .from(scimTokens)
    .where(and(eq(scimTokens.tokenHash, await sha256Hex(credential)), isNull(scimTokens.revokedAt)))
    .get();
  if (!row) return null;
  return {
    type: "scim_token",
    id: row.id,
    createdBy: row.createdBy,
    permissions: SCIM_PERMISSIONS,
  };
}

/**
 * The SCIM actor for a request's bearer credential, or a 401. Failed credentials are budgeted per
 * client on this tenant (only failures count: an IdP syncing costs no write); a client whose
 * failures are spent is refused before the hash and the lookup.
 */
export async function authenticateScimRequest({
  ctx,
  input: { credential },
}: {
  ctx: TenantRequestContext;
  input: { credential: string | undefined };
}): Promise<Extract<Actor, { type: "scim_token" }>> {
  const budgets = [scimAuthBudget(ctx.tenant.id, ctx.ip)];
  const detail = "Too many failed SCIM tokens from this client. Try again later.";
  await refuseSpent(ctx.env, budgets, detail);
  const actor = credential
    ? await authenticateScimToken(tenantDb(ctx.env, ctx.tenant), credential)
    : null;
  if (actor) return actor;
  await takeAttempt(ctx.env, budgets, detail);
  throw new UnauthorizedError("Send a SCIM bearer token of this tenant.");
}
