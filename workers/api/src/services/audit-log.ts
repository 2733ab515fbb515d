import {
  type ChainPage,
  type Checkpoint,
  chainPage,
  sealChain,
  tenantAuditChain,
} from "@tenantry/core";
import { supportSessions } from "@tenantry/schema/control";
import { auditLog } from "@tenantry/schema/tenant";
import { and, eq, gte, inArray, lt } from "drizzle-orm";
import type { ServiceContext } from "../context";
import { controlDb } from "../db/control-db";
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
    support: null as { operator: { id: string; email: string }; mode: string } | null,
  };
}

export interface AuditFilter {
  action?: string | undefined;
  actor_type?: string | undefined;
  actor_id?: string | undefined;
  /** Epoch milliseconds, inclusive. */
  from?: number | undefined;
  /** Epoch milliseconds, exclusive. */
  to?: number | undefined;
}

/**
 * Newest first (ids are time-sortable), narrowed by `filter` (indexed: action, actor). Entries
 * written under support access also name the operator and the mode, from the support session the
 * entry's actor id names (of this tenant only), so the log shows who really acted.
 */
export async function listAuditLog({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: PageQuery & AuditFilter;
}) {
  const where = and(
    input.action ? eq(auditLog.action, input.action) : undefined,
    input.actor_type ? eq(auditLog.actorType, input.actor_type) : undefined,
    input.actor_id ? eq(auditLog.actorId, input.actor_id) : undefined,
    input.from !== undefined ? gte(auditLog.createdAt, input.from) : undefined,
    input.to !== undefined ? lt(auditLog.createdAt, input.to) : undefined,
  );
  const page = await listPage(ctx.db, auditLog, input, auditView, where);
  const supportIds = [
    ...new Set(page.data.filter((e) => e.actor.type === "support").map((e) => e.actor.id)),
  ];
  if (supportIds.length === 0) return page;
  const sessions = await controlDb(ctx.env)
    .select({
      id: supportSessions.id,
      operatorId: supportSessions.operatorId,
      operatorEmail: supportSessions.operatorEmail,
      mode: supportSessions.mode,
    })
    .from(supportSessions)
    .where(
      and(eq(supportSessions.tenantId, ctx.tenant.id), inArray(supportSessions.id, supportIds)),
    );
  const byId = new Map(sessions.map((s) => [s.id, s]));
  return {
    ...page,
    data: page.data.map((e) => {
      const s = e.actor.type === "support" ? byId.get(e.actor.id) : undefined;
      return s
        ? {
            ...e,
            support: { operator: { id: s.operatorId, email: s.operatorEmail }, mode: s.mode },
          }
        : e;
    }),
  };
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
