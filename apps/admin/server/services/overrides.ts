import { controlDb, ProblemError, refreshMeter, ValidationError } from "@tenantry/core";
import { type EntitlementOverride, EntitlementOverrideSchema } from "@tenantry/plans";
import { newId } from "@tenantry/schema";
import { entitlementOverrides } from "@tenantry/schema/control";
import { and, desc, eq, gt, isNull, or, type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import { operatorAuditEntry, operatorAuditEntryWhere } from "../audit";
import type { OperatorContext } from "../context";
import { parseInput } from "./input";
import { findTenant, REASON } from "./tenants";

/** How many of a tenant's overrides (newest first, expired included) operators see. */
const LIST_LIMIT = 200;

export interface OverrideView {
  id: string;
  override: EntitlementOverride | null;
  /** The stored text, for rows that no longer parse (they are ignored by evaluation). */
  raw: string | null;
  active: boolean;
  expires_at: string | null;
  created_at: string;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** An override as audit snapshots carry it: `key` is renamed, since snapshots drop fields so named. */
function snapshot({ key, ...rest }: EntitlementOverride) {
  return { ...rest, name: key };
}

/** The tenant's overrides, newest first, with whether each is in force now. */
export async function listOverrides({
  ctx,
  input,
}: {
  ctx: OperatorContext;
  input: { tenantId: string };
}): Promise<OverrideView[]> {
  const tenant = await findTenant(ctx, input.tenantId);
  const now = Date.now();
  const rows = await controlDb(ctx.env)
    .select()
    .from(entitlementOverrides)
    .where(eq(entitlementOverrides.tenantId, tenant.id))
    .orderBy(desc(entitlementOverrides.createdAt), desc(entitlementOverrides.id))
    .limit(LIST_LIMIT);
  return rows.map((row) => {
    const parsed = EntitlementOverrideSchema.safeParse(JSON.parse(row.override));
    return {
      id: row.id,
      override: parsed.success ? parsed.data : null,
      raw: parsed.success ? null : row.override,
      active: row.expiresAt === null || row.expiresAt > now,
      expires_at: iso(row.expiresAt),
      created_at: iso(row.createdAt) as string,
    };
  });
}

/**
 * Grants a feature, limit, rollout flag or request budget to one tenant, with a reason and
 * (for comps, always) an expiry. The row and its audit entry are one batch; the tenant's meter
 * re-reads its limits at once, so the next request sees the change.
 */
export async function createOverride({
  ctx,
  input,
}: {
  ctx: OperatorContext;
  input: { tenantId: string; override: unknown };
}) {
  const parsed = parseInput(EntitlementOverrideSchema, input.override);
  const override = { ...parsed, ...parseInput(z.object({ reason: REASON }), parsed) };
  const now = Date.now();
  if (override.expiresAt != null && override.expiresAt <= now) {
    throw new ValidationError("The override would expire before it starts.", [
      { path: "body.expiresAt", message: "a time in the future (epoch ms), or null" },
    ]);
  }
  const tenant = await findTenant(ctx, input.tenantId);
  const id = newId("override", now);
  const db = controlDb(ctx.env);
  await db.batch([
    db.insert(entitlementOverrides).values({
      id,
      tenantId: tenant.id,
      override: JSON.stringify(override),
      expiresAt: override.expiresAt ?? null,
      createdAt: now,
    }),
    operatorAuditEntry(ctx, db, {
      action: "override.create",
      tenantId: tenant.id,
      target: { type: "override", id },
      reason: override.reason,
      before: null,
      after: snapshot(override),
    }),
  ]);
  await refreshMeter(ctx.env, tenant.id);
  return {
    id,
    override,
    active: true,
    expires_at: iso(override.expiresAt ?? null),
    created_at: iso(now) as string,
  };
}

/**
 * Ends an override now (the row stays, for the record). Guarded like a status change: the entry
 * and the expiry are written only while the override is in force, so a second expiry is 409.
 */
export async function expireOverride({
  ctx,
  input,
}: {
  ctx: OperatorContext;
  input: { tenantId: string; overrideId: string; reason: string };
}) {
  const { reason } = parseInput(z.object({ reason: REASON }), input);
  const tenant = await findTenant(ctx, input.tenantId);
  const db = controlDb(ctx.env);
  const o = entitlementOverrides;
  const row = await db
    .select()
    .from(o)
    .where(and(eq(o.id, input.overrideId), eq(o.tenantId, tenant.id)))
    .get();
  if (!row) {
    throw new ProblemError(404, "not_found", "Not found", "The override does not exist.");
  }
  const now = Date.now();
  const inForce = and(
    eq(o.id, row.id),
    eq(o.tenantId, tenant.id),
    or(isNull(o.expiresAt), gt(o.expiresAt, now)),
  ) as SQL;
  const [, expired] = await db.batch([
    operatorAuditEntryWhere(
      ctx,
      db,
      {
        action: "override.expire",
        tenantId: tenant.id,
        target: { type: "override", id: row.id },
        reason,
        before: { ...snapshot(JSON.parse(row.override)), expires_at: iso(row.expiresAt) },
        after: { expires_at: iso(now) },
      },
      sql`EXISTS (SELECT 1 FROM ${o} WHERE ${inForce})`,
    ),
    // The JSON's own expiry too: evaluation reads both.
    db
      .update(o)
      .set({ expiresAt: now, override: sql`json_set(${o.override}, '$.expiresAt', ${now})` })
      .where(inForce)
      .returning({ id: o.id }),
  ]);
  if (expired.length !== 1) {
    throw new ProblemError(
      409,
      "override_expired",
      "Conflict",
      "The override has already expired; nothing was changed.",
    );
  }
  await refreshMeter(ctx.env, tenant.id);
  return { id: row.id, active: false as const, expires_at: iso(now) };
}
