import {
  type Checkpoint,
  entryColumns,
  GENESIS_HASH,
  sealChain,
  tenantAuditChain,
} from "@tenantry/core";
import { auditLog, auditSeals } from "@tenantry/schema/tenant";
import { asc, eq, gt, notExists, sql } from "drizzle-orm";
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

export interface AuditExport {
  format: "tenantry-audit-export/v1";
  tenant_id: string;
  /**
   * The chain hash before the first entry of this page: 64 zeros at the start of the chain, null
   * when `after_seq` names no seal.
   */
  prev_hash: string | null;
  /** Sealed entries in chain order; `entry` is every column as stored, null if it was removed. */
  entries: { seq: number; chain_hash: string; entry: Record<string, unknown> | null }[];
  next_after_seq: number | null;
  checkpoint: Checkpoint | null;
  /** Entries written but not sealed yet (none right after this call's seal, unless racing writes). */
  unsealed: number;
}

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
  const { checkpoint } = await sealChain(
    tenantAuditChain(ctx.env, ctx.tenant),
    ctx.env.AUDIT_SIGNING_KEY,
  );
  const s = auditSeals;
  const [before] =
    input.after_seq > 0
      ? await ctx.db.orm.select({ hash: s.chainHash }).from(s).where(eq(s.seq, input.after_seq))
      : [{ hash: GENESIS_HASH }];
  const rows = await ctx.db.orm
    .select({ seal: s, entry: auditLog })
    .from(s)
    .leftJoin(auditLog, eq(auditLog.id, s.entryId))
    .where(gt(s.seq, input.after_seq))
    .orderBy(asc(s.seq))
    .limit(input.limit + 1);
  const page = rows.slice(0, input.limit);
  const [pending] = await ctx.db.orm
    .select({ count: sql<number>`count(*)` })
    .from(auditLog)
    .where(notExists(ctx.db.orm.select({ one: sql`1` }).from(s).where(eq(s.entryId, auditLog.id))));
  return {
    format: "tenantry-audit-export/v1",
    tenant_id: ctx.tenant.id,
    prev_hash: before?.hash ?? null,
    entries: page.map(({ seal, entry }) => ({
      seq: seal.seq,
      chain_hash: seal.chainHash,
      entry: entry ? entryColumns(auditLog, entry) : null,
    })),
    next_after_seq: rows.length > input.limit ? (page.at(-1)?.seal.seq ?? null) : null,
    checkpoint,
    unsealed: pending?.count ?? 0,
  };
}
