import { auditLog } from "@tenantry/schema/tenant";
import type { ServiceContext } from "../context";
import { listPage, type PageQuery } from "../lib/pagination";

type AuditRow = typeof auditLog.$inferSelect;

export function auditView(a: AuditRow) {
  return {
    id: a.id,
    actor: { type: a.actorType, id: a.actorId },
    action: a.action,
    target: { type: a.targetType, id: a.targetId },
    before: a.before ? (JSON.parse(a.before) as Record<string, unknown>) : null,
    after: a.after ? (JSON.parse(a.after) as Record<string, unknown>) : null,
    request_id: a.requestId,
    ip: a.ip,
    created_at: new Date(a.createdAt).toISOString(),
  };
}

/** Newest first: ids are time-sortable. */
/** Newest first: ids are time-sortable. */
export function listAuditLog({ ctx, input }: { ctx: ServiceContext; input: PageQuery }) {
  return listPage(ctx.db, auditLog, input, auditView);
}
