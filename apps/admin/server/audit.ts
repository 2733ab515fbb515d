import { insertWhere, redact } from "@tenantry/core";
import { newId } from "@tenantry/schema";
import { type PlatformAuditAction, platformAuditLog } from "@tenantry/schema/control";
import type { SQL } from "drizzle-orm";
import type { DrizzleD1Database } from "drizzle-orm/d1";
import type { OperatorContext } from "./context";

export interface OperatorAuditInput {
  action: PlatformAuditAction;
  tenantId?: string | null;
  target: { type: string; id: string };
  /** Why: every operator mutation states one. */
  reason: string;
  before?: Record<string, unknown> | null;
  after?: Record<string, unknown> | null;
}

function operatorAuditRow(
  ctx: OperatorContext,
  input: OperatorAuditInput,
): typeof platformAuditLog.$inferInsert {
  return {
    id: newId("audit"),
    actorType: "operator",
    actorId: ctx.operator.id,
    action: input.action,
    tenantId: input.tenantId ?? null,
    targetType: input.target.type,
    targetId: input.target.id,
    reason: input.reason,
    before: redact(input.before),
    after: redact(input.after),
    requestId: ctx.requestId,
    ip: ctx.ip,
    createdAt: Date.now(),
  };
}

/**
 * The operator audit entry for a mutation; callers put it in the same batch as the change, so
 * a change without its entry (or the reverse) cannot be committed. Snapshots are redacted.
 */
export function operatorAuditEntry(
  ctx: OperatorContext,
  db: DrizzleD1Database<Record<string, unknown>>,
  input: OperatorAuditInput,
) {
  return db.insert(platformAuditLog).values(operatorAuditRow(ctx, input));
}

/** The entry for a guarded change: written only if `condition` holds when its turn comes. */
export function operatorAuditEntryWhere(
  ctx: OperatorContext,
  db: DrizzleD1Database<Record<string, unknown>>,
  input: OperatorAuditInput,
  condition: SQL,
) {
  return insertWhere(db, platformAuditLog, operatorAuditRow(ctx, input), condition);
}
