import { auditEntry, type TenantDb } from "@tenantry/core";
import { randomSecret, sha256Hex } from "@tenantry/core/crypto";
import { newId } from "@tenantry/schema";
import { apiKeys } from "@tenantry/schema/tenant";
import { and, desc, eq, gt, isNull, or } from "drizzle-orm";
import type { ServiceContext } from "../context";
import { ForbiddenError, NotFoundError, ValidationError } from "../errors";
import { listPage, type PageQuery } from "../lib/pagination";
import { isSubset, type Permission } from "../rbac/permissions";
import { API_KEY_PREFIX } from "./authenticate";
import { assertVerified } from "./invitations";
import { requireRecentMfa } from "./mfa";
import { forgetApiKeys } from "./session-cache";

type ApiKeyRow = typeof apiKeys.$inferSelect;

export function apiKeyView(k: ApiKeyRow) {
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  return {
    id: k.id,
    name: k.name,
    start: k.start,
    permissions: JSON.parse(k.permissions) as Permission[],
    expires_at: iso(k.expiresAt),
    last_used_at: iso(k.lastUsedAt),
    revoked_at: iso(k.revokedAt),
    created_by: k.createdBy,
    created_at: new Date(k.createdAt).toISOString(),
  };
}

/**
 * Creates a key whose permissions are a subset of the creating member's. Keys belong to a member
 * (they stop working when the member leaves and shrink with the member's role), so a key cannot
 * mint other keys. The key is returned once.
 */
export async function createApiKey({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { name: string; permissions: Permission[]; expires_at?: string | undefined };
}) {
  if (ctx.actor.type !== "user") {
    throw new ForbiddenError(
      "API keys are created by members, not by other API keys.",
      "api_key_cannot_create_keys",
    );
  }
  await requireRecentMfa(ctx);
  const permissions = [...new Set(input.permissions)];
  if (!isSubset(permissions, ctx.actor.permissions)) {
    throw new ForbiddenError(
      "An API key cannot have permissions its creator lacks.",
      "permission_escalation",
      {
        missing: permissions.filter((p) => !ctx.actor.permissions.has(p)),
      },
    );
  }
  // A key that can invite sends mail in the tenant's name: only a verified member may mint one.
  if (permissions.includes("invitations:manage")) await assertVerified(ctx.env, ctx.actor.id);
  const expiresAt = input.expires_at ? Date.parse(input.expires_at) : null;
  if (expiresAt !== null && expiresAt <= Date.now()) {
    throw new ValidationError("expires_at must be in the future.", [
      { path: "body.expires_at", message: "must be in the future" },
    ]);
  }
  const key = `${API_KEY_PREFIX}${randomSecret(32)}`;
  const row: ApiKeyRow = {
    id: newId("apiKey"),
    tenantId: ctx.tenant.id,
    name: input.name,
    start: key.slice(0, API_KEY_PREFIX.length + 4),
    keyHash: await sha256Hex(key),
    permissions: JSON.stringify(permissions),
    createdBy: ctx.actor.id,
    expiresAt,
    lastUsedAt: null,
    revokedAt: null,
    createdAt: Date.now(),
  };
  await ctx.db.orm.batch([
    ctx.db.orm.insert(apiKeys).values(row),
    auditEntry(ctx, {
      action: "api_key.create",
      target: { type: "api_key", id: row.id },
      after: apiKeyView(row),
    }),
  ]);
  return { ...apiKeyView(row), key };
}

export function listApiKeys({ ctx, input }: { ctx: ServiceContext; input: PageQuery }) {
  return listPage(ctx.db, apiKeys, input, apiKeyView);
}

/**
 * Revocation takes effect on the next request in this isolate and within API_KEY_CACHE_TTL_SECONDS
 * everywhere (see session-cache.ts).
 */
export async function revokeApiKey({
  ctx,
  input: { id },
}: {
  ctx: ServiceContext;
  input: { id: string };
}) {
  const row = await ctx.db.orm.select().from(apiKeys).where(eq(apiKeys.id, id)).get();
  if (!row) throw new NotFoundError("API key");
  if (row.revokedAt !== null) return;
  const now = Date.now();
  await ctx.db.orm.batch([
    ctx.db.orm
      .update(apiKeys)
      .set({ revokedAt: now })
      .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt))),
    auditEntry(ctx, {
      action: "api_key.revoke",
      target: { type: "api_key", id },
      before: apiKeyView(row),
      after: apiKeyView({ ...row, revokedAt: now }),
    }),
  ]);
  forgetApiKeys({ tenantId: ctx.tenant.id, id });
}

/** The keys a member created that still work (not revoked, not expired). */
export async function activeKeysCreatedBy(db: TenantDb, userId: string) {
  const rows = await db.orm
    .select()
    .from(apiKeys)
    .where(
      and(
        eq(apiKeys.createdBy, userId),
        isNull(apiKeys.revokedAt),
        or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, Date.now())),
      ),
    )
    .orderBy(desc(apiKeys.id));
  return rows.map(apiKeyView);
}

function assertMember(ctx: ServiceContext): asserts ctx is ServiceContext & {
  actor: Extract<ServiceContext["actor"], { type: "user" }>;
} {
  if (ctx.actor.type !== "user") {
    throw new ForbiddenError(
      "Only a signed-in member has keys of their own; sign in as the member.",
    );
  }
}

/** The caller's own keys that still work, whatever their role now. */
export async function listOwnApiKeys({ ctx }: { ctx: ServiceContext; input?: undefined }) {
  assertMember(ctx);
  return { data: await activeKeysCreatedBy(ctx.db, ctx.actor.id) };
}

/** A member may always revoke a key they created (after a password reset, say). */
export async function revokeOwnApiKey({
  ctx,
  input: { id },
}: {
  ctx: ServiceContext;
  input: { id: string };
}) {
  assertMember(ctx);
  const row = await ctx.db.orm.select().from(apiKeys).where(eq(apiKeys.id, id)).get();
  if (!row || row.createdBy !== ctx.actor.id) throw new NotFoundError("API key");
  await revokeApiKey({ ctx, input: { id } });
}
