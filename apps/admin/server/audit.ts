import { insertWhere, redact, ValidationError } from "@tenantry/core";
import { newId } from "@tenantry/schema";
import { type PlatformAuditAction, platformAuditLog } from "@tenantry/schema/control";
import type { SQL } from "drizzle-orm";
import type { DrizzleD1Database } from "drizzle-orm/d1";
import type { OperatorContext } from "./context";

export interface OperatorAuditInput {
  /** Given when the batch must name the entry (a guarded change marks its row with it). */
  id?: string;
  action: PlatformAuditAction;
  tenantId?: string | null;
  target: { type: string; id: string };
  /** Why: every operator mutation states one. */
  reason: string;
  before?: Record<string, unknown> | null;
  after?: Record<string, unknown> | null;
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
  return db.insert(platformAuditLog).values(auditValues(ctx, input));
}

/**
 * The entry of a guarded change (a status transition that may match nothing): written only if
 * `condition` holds after the batch's earlier statements (see `insertWhere`).
 */
export function operatorAuditEntryWhere(
  ctx: OperatorContext,
  db: DrizzleD1Database<Record<string, unknown>>,
  input: OperatorAuditInput,
  condition: SQL,
) {
  return insertWhere(db, platformAuditLog, auditValues(ctx, input), condition);
}

function auditValues(ctx: OperatorContext, input: OperatorAuditInput) {
  if (!input.reason.trim()) throw new ValidationError("Every operator change needs a reason.");
  return {
    id: input.id ?? newId("audit"),
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
  } satisfies typeof platformAuditLog.$inferInsert;
}
