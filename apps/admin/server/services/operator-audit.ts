import { controlDb, ValidationError } from "@tenantry/core";
import { newId } from "@tenantry/schema";
import {
  operators,
  PLATFORM_AUDIT_ACTIONS,
  platformAuditLog,
  tenants,
} from "@tenantry/schema/control";
import { and, desc, eq, gte, lt, type SQL } from "drizzle-orm";
import { z } from "zod";
import type { AdminRequestContext } from "../context";
import { csvRow } from "../csv";

/** The operator audit log (platform_audit_log): what operators and jobs did to tenants. */

export const OPERATOR_AUDIT_ACTIONS = PLATFORM_AUDIT_ACTIONS;

/** A time bound: ISO 8601, UTC when it names no zone (what a datetime-local field sends). */
const Instant = z.iso.datetime({ offset: true, local: true });
const instantMs = (s: string) => new Date(/(z|[+-]\d\d:?\d\d)$/i.test(s) ? s : `${s}Z`).getTime();
/**
 * The lowest id of an instant: ids begin with their creation time (schema/src/ids.ts), so a time
 * range is an id range, walked in the same index order as the page (no sort of the range).
 */
const idAt = (ms: number) => newId("audit", ms).slice(0, "aud_".length + 10);

export const OperatorAuditQuerySchema = z.object({
  /** An operator's id or email (or a job's name: the actor id of `system` entries). */
  operator: z.string().trim().min(1).max(320).optional(),
  /** A tenant's id or slug. */
  tenant: z.string().trim().min(1).max(100).optional(),
  action: z.enum(PLATFORM_AUDIT_ACTIONS).optional(),
  /** Entries at or after this instant. */
  from: Instant.optional(),
  /** Entries before this instant. */
  to: Instant.optional(),
  /** The last id of the previous page (ids are time-sortable: newest first is highest first). */
  cursor: z
    .string()
    .regex(/^aud_[0-9A-Z]+$/)
    .optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export type OperatorAuditQuery = z.input<typeof OperatorAuditQuerySchema>;
type Filters = z.output<typeof OperatorAuditQuerySchema>;

/** The filters of a page's query string (an empty field is no filter). */
export function operatorAuditFilters(params: URLSearchParams): OperatorAuditQuery {
  const filters: Record<string, string> = {};
  for (const name of ["operator", "tenant", "action", "from", "to"]) {
    const value = params.get(name)?.trim();
    if (value) filters[name] = value;
  }
  return filters as OperatorAuditQuery;
}

function parseQuery(input: OperatorAuditQuery): Filters {
  const parsed = OperatorAuditQuerySchema.safeParse(input);
  if (!parsed.success) throw ValidationError.fromZod(parsed.error, "query");
  return parsed.data;
}

export interface FieldChange {
  field: string;
  before: unknown;
  after: unknown;
}

export interface OperatorAuditEntry {
  id: string;
  createdAt: string;
  actor: { type: string; id: string; email: string | null };
  action: string;
  tenant: { id: string; slug: string | null } | null;
  target: { type: string; id: string };
  reason: string | null;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  /** The fields that differ between before and after, for reading. */
  changes: FieldChange[];
  requestId: string | null;
  ip: string | null;
}

export interface OperatorAuditPage {
  data: OperatorAuditEntry[];
  nextCursor: string | null;
}

/** An export holds at most this many entries (the newest matching); narrow the range for more. */
export const MAX_EXPORT_ROWS = 50_000;
const EXPORT_PAGE = 500;

function parseSnapshot(text: string | null): Record<string, unknown> | null {
  return text ? (JSON.parse(text) as Record<string, unknown>) : null;
}

/** Fields added, removed or changed between two snapshots, in first-seen order. */
export function diffSnapshots(
  before: Record<string, unknown> | null,
  after: Record<string, unknown> | null,
): FieldChange[] {
  const fields = [...new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})])];
  return fields
    .map((field) => ({ field, before: before?.[field] ?? null, after: after?.[field] ?? null }))
    .filter((c) => JSON.stringify(c.before) !== JSON.stringify(c.after));
}

/**
 * The filters as one condition, with an operator's email and a tenant's slug resolved to ids;
 * null when a filter names nothing (the answer is empty).
 */
async function conditions(ctx: AdminRequestContext, q: Filters): Promise<SQL | undefined | null> {
  const db = controlDb(ctx.env);
  let actorId = q.operator;
  if (actorId?.includes("@")) {
    const op = await db
      .select({ id: operators.id })
      .from(operators)
      .where(eq(operators.email, actorId.toLowerCase()))
      .get();
    if (!op) return null;
    actorId = op.id;
  }
  let tenantId = q.tenant;
  if (tenantId && !tenantId.startsWith("ten_")) {
    const t = await db
      .select({ id: tenants.id })
      .from(tenants)
      .where(eq(tenants.slug, tenantId.toLowerCase()))
      .get();
    if (!t) return null;
    tenantId = t.id;
  }
  const l = platformAuditLog;
  return and(
    actorId ? eq(l.actorId, actorId) : undefined,
    tenantId ? eq(l.tenantId, tenantId) : undefined,
    q.action ? eq(l.action, q.action) : undefined,
    q.from ? gte(l.id, idAt(instantMs(q.from))) : undefined,
    q.to ? lt(l.id, idAt(instantMs(q.to))) : undefined,
  );
}

async function page(
  ctx: AdminRequestContext,
  where: SQL | undefined,
  cursor: string | undefined,
  limit: number,
): Promise<OperatorAuditPage> {
  const l = platformAuditLog;
  const rows = await controlDb(ctx.env)
    .select({ entry: l, operatorEmail: operators.email, tenantSlug: tenants.slug })
    .from(l)
    .leftJoin(operators, and(eq(l.actorType, "operator"), eq(operators.id, l.actorId)))
    .leftJoin(tenants, eq(tenants.id, l.tenantId))
    .where(and(where, cursor ? lt(l.id, cursor) : undefined))
    .orderBy(desc(l.id))
    .limit(limit + 1);
  const data = rows.slice(0, limit).map(({ entry: e, operatorEmail, tenantSlug }) => {
    const before = parseSnapshot(e.before);
    const after = parseSnapshot(e.after);
    return {
      id: e.id,
      createdAt: new Date(e.createdAt).toISOString(),
      actor: { type: e.actorType, id: e.actorId, email: operatorEmail },
      action: e.action,
      tenant: e.tenantId ? { id: e.tenantId, slug: tenantSlug } : null,
      target: { type: e.targetType, id: e.targetId },
      reason: e.reason,
      before,
      after,
      changes: diffSnapshots(before, after),
      requestId: e.requestId,
      ip: e.ip,
    };
  });
  const last = data.at(-1);
  return { data, nextCursor: rows.length > limit && last ? last.id : null };
}

/** One page of the operator audit log, newest first, filtered. */
export async function listOperatorAudit({
  ctx,
  input,
}: {
  ctx: AdminRequestContext;
  input: OperatorAuditQuery;
}): Promise<OperatorAuditPage> {
  const q = parseQuery(input);
  const where = await conditions(ctx, q);
  if (where === null) return { data: [], nextCursor: null };
  return page(ctx, where, q.cursor, q.limit);
}

const CSV_HEADER = [
  "created_at",
  "operator_email",
  "actor_type",
  "actor_id",
  "action",
  "tenant_slug",
  "tenant_id",
  "target_type",
  "target_id",
  "reason",
  "changes",
  "before",
  "after",
  "request_id",
  "ip",
];

function changesText(changes: FieldChange[]): string {
  return changes
    .map((c) => `${c.field}: ${JSON.stringify(c.before)} → ${JSON.stringify(c.after)}`)
    .join("; ");
}

/**
 * The filtered log as CSV, newest first, at most MAX_EXPORT_ROWS entries, read page by page as
 * the response streams.
 */
export async function exportOperatorAuditCsv({
  ctx,
  input,
}: {
  ctx: AdminRequestContext;
  input: Omit<OperatorAuditQuery, "cursor" | "limit">;
}): Promise<ReadableStream<Uint8Array>> {
  const where = await conditions(ctx, parseQuery(input));
  const encoder = new TextEncoder();
  let cursor: string | undefined;
  let sent = 0;
  // Every pull enqueues or closes: a pull that does neither leaves the reader waiting.
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(csvRow(CSV_HEADER)));
    },
    async pull(controller) {
      if (where === null) return controller.close();
      const next = await page(ctx, where, cursor, Math.min(EXPORT_PAGE, MAX_EXPORT_ROWS - sent));
      const text = next.data
        .map((e) =>
          csvRow([
            e.createdAt,
            e.actor.email,
            e.actor.type,
            e.actor.id,
            e.action,
            e.tenant?.slug,
            e.tenant?.id,
            e.target.type,
            e.target.id,
            e.reason,
            changesText(e.changes),
            e.before && JSON.stringify(e.before),
            e.after && JSON.stringify(e.after),
            e.requestId,
            e.ip,
          ]),
        )
        .join("");
      if (text) controller.enqueue(encoder.encode(text));
      sent += next.data.length;
      cursor = next.nextCursor ?? undefined;
      if (!cursor || sent >= MAX_EXPORT_ROWS) controller.close();
    },
  });
}
