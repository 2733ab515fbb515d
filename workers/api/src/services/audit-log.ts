import {
  type ChainPage,
  type Checkpoint,
  chainPage,
  sealChain,
  tenantAuditChain,
} from "@tenantry/core";
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
export function listAuditLog({ ctx, input }: { ctx: ServiceContext; input: PageQuery }) {
  return listPage(ctx.db, auditLog, input, auditView);
}

export interface ExportQuery {
  after_seq: number;
  limit: number;
}

export type AuditExport = ChainPage & {
  format: "tenantry-audit-export/v1";
  tenant_id: string;
  checkpoint: Checkpoint | null;
};

/**
 * One page of the tenant's sealed audit chain with the proof (ADR 012). Seals first, so the
 * signed checkpoint covers every entry written before the request.
 */
export async function exportAuditLog({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: ExportQuery;
}): Promise<AuditExport> {
  const chain = tenantAuditChain(ctx.env, ctx.tenant);
  const { checkpoint } = await sealChain(chain, ctx.env.AUDIT_SIGNING_KEY);
  return {
    format: "tenantry-audit-export/v1",
    tenant_id: ctx.tenant.id,
    ...(await chainPage(chain, input.after_seq, input.limit)),
    checkpoint,
  };
}
