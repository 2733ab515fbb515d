import { controlDb, ProblemError, ValidationError } from "@tenantry/core";
import { PlanIdSchema } from "@tenantry/plans";
import { TENANT_ACCESS, TENANT_STATUSES, tenants, users } from "@tenantry/schema/control";
import { and, asc, desc, eq, gt, gte, lt, or, type SQL, sql } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import { z } from "zod";
import { operatorAuditEntryWhere } from "../audit";
import type { OperatorContext } from "../context";
import { parseInput } from "./input";

export const SEARCH_FIELDS = ["name", "slug", "email", "stripe_customer"] as const;
type SearchField = (typeof SEARCH_FIELDS)[number];

export const TenantListQuerySchema = z.object({
  /** A prefix of the name (any case), slug or owner email; a Stripe customer id exactly. */
  q: z.string().trim().min(1).max(200).optional(),
  /** What `q` searches; guessed from it when absent (`cus_…`, an `@`, else the name). */
  by: z.enum(SEARCH_FIELDS).optional(),
  plan: PlanIdSchema.optional(),
  status: z.enum(TENANT_STATUSES).optional(),
  access: z.enum(TENANT_ACCESS).optional(),
  cursor: z.string().max(600).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});
export type TenantListQuery = z.input<typeof TenantListQuerySchema>;

export const REASON = z.string().trim().min(3).max(500);
const ReasonSchema = z.object({ reason: REASON });

function tenantNotFound(): ProblemError {
  return new ProblemError(404, "not_found", "Not found", "The tenant does not exist.");
}

function searchFieldOf(q: string): SearchField {
  if (q.startsWith("cus_")) return "stripe_customer";
  return q.includes("@") ? "email" : "name";
}

/** SQLite's lower() folds ASCII only; the search key must fold the same way. */
const asciiLower = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

/**
 * The first string after every string that starts with `prefix` (BINARY order is code point
 * order), so a prefix search is a range an index can walk instead of a LIKE that scans.
 */
function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

interface Cursor {
  /** The sort key of the last row (slug, lower-cased name or owner email); null by id. */
  k: string | null;
  id: string;
}

// base64url of the UTF-8 JSON: sort keys are names, which need not be Latin-1 (btoa's range).
function encodeCursor(c: Cursor): string {
  const bytes = new TextEncoder().encode(JSON.stringify([c.k, c.id]));
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

function decodeCursor(raw: string): Cursor {
  try {
    const binary = atob(raw.replace(/-/g, "+").replace(/_/g, "/"));
    const json = new TextDecoder().decode(Uint8Array.from(binary, (ch) => ch.charCodeAt(0)));
    const [k, id] = JSON.parse(json);
    if ((k === null || typeof k === "string") && typeof id === "string") return { k, id };
  } catch {}
  throw new ValidationError("The cursor is not one this API returned.", [
    { path: "query.cursor", message: "pass next_cursor from the previous page unchanged" },
  ]);
}

/** `(key, id) > (k, id)` in a form whose first term an index range can use. */
function after(key: SQL, c: Cursor): SQL {
  const k = c.k ?? "";
  return and(gte(key, k), or(gt(key, k), gt(tenants.id, c.id))) as SQL;
}

/**
 * Tenants for the operator console, newest first, or in the order of the searched field. Every
 * shape (filters, each search field, with or without a cursor) walks an index in the order it
 * pages, so a page costs the same at 100,000 tenants as at 10 (test/tenants.test.ts checks the
 * query plans). Filters beside a search narrow the searched range.
 */
export async function listTenants({
  ctx,
  input,
}: {
  ctx: OperatorContext;
  input: TenantListQuery;
}) {
  const query = parseInput(TenantListQuerySchema, input, "query");
  const { by, statement } = tenantListStatement(ctx.env, query);
  const rows = await statement;
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    data: page.map((row) => ({
      id: row.id,
      slug: row.slug,
      name: row.name,
      status: row.status,
      plan: row.plan,
      access: row.access,
      owner_email: row.ownerEmail,
      stripe_customer_id: row.stripeCustomerId,
      schema_version: row.schemaVersion,
      created_at: new Date(row.createdAt).toISOString(),
    })),
    searched_by: by,
    next_cursor:
      rows.length > query.limit && last ? encodeCursor({ k: last.sortKey, id: last.id }) : null,
  };
}

/** The one statement behind a page (exported so a test can check every shape's query plan). */
export function tenantListStatement(
  env: OperatorContext["env"],
  query: z.output<typeof TenantListQuerySchema>,
) {
  const cursor = query.cursor ? decodeCursor(query.cursor) : null;
  const by = query.q ? (query.by ?? searchFieldOf(query.q)) : null;
  // Beside a search, the searched index gives the order; unary + keeps SQLite from picking a
  // filter's index instead and sorting every match.
  const filter = (column: SQLiteColumn, value: string | undefined) =>
    value === undefined ? undefined : by ? sql`+${column} = ${value}` : eq(column, value);
  const where: (SQL | undefined)[] = [
    filter(tenants.plan, query.plan),
    filter(tenants.status, query.status),
    filter(tenants.access, query.access),
  ];
  const lowerName = sql<string>`lower(${tenants.name})`;
  let key: SQL | null = null;
  let order: SQL[];
  if (by === "stripe_customer") {
    where.push(eq(tenants.stripeCustomerId, query.q as string));
    order = [];
  } else if (by === null) {
    if (cursor) where.push(lt(tenants.id, cursor.id));
    order = [desc(tenants.id)];
  } else {
    key = sql`${by === "slug" ? tenants.slug : by === "email" ? users.email : lowerName}`;
    const prefix =
      by === "name" ? asciiLower(query.q as string) : (query.q as string).toLowerCase();
    where.push(gte(key, prefix), lt(key, prefixEnd(prefix)));
    if (cursor) where.push(after(key, cursor));
    order = [asc(key), asc(tenants.id)];
  }
  const statement = controlDb(env)
    .select({
      id: tenants.id,
      slug: tenants.slug,
      name: tenants.name,
      status: tenants.status,
      plan: tenants.plan,
      access: tenants.access,
      ownerEmail: users.email,
      stripeCustomerId: tenants.stripeCustomerId,
      schemaVersion: tenants.schemaVersion,
      createdAt: tenants.createdAt,
      sortKey: key ? sql<string>`${key}` : sql<null>`NULL`,
    })
    .from(tenants)
    .innerJoin(users, eq(users.id, tenants.ownerUserId))
    .where(and(...where))
    .orderBy(...order)
    .limit(query.limit + 1);
  return { by, statement };
}

export async function findTenant(ctx: OperatorContext, id: string) {
  const row = await controlDb(ctx.env).select().from(tenants).where(eq(tenants.id, id)).get();
  if (!row) throw tenantNotFound();
  return row;
}

type StatusChange = { from: "active"; to: "suspended" } | { from: "suspended"; to: "active" };

/**
 * One guarded step: the audit entry and the status change are written in one batch under the
 * same condition (the tenant is in `from`), so parallel calls make one change and one entry; the
 * others get 409. The API worker refuses a suspended tenant within its registry cache TTL
 * (REGISTRY_CACHE_TTL_SECONDS, at most 30 s); a reactivation is seen at once (only active rows
 * are cached).
 */
async function changeStatus(
  ctx: OperatorContext,
  input: { id: string; reason: string },
  change: StatusChange,
) {
  const { reason } = parseInput(ReasonSchema, input);
  const tenant = await findTenant(ctx, input.id);
  const db = controlDb(ctx.env);
  const now = Date.now();
  const inFrom = and(eq(tenants.id, tenant.id), eq(tenants.status, change.from)) as SQL;
  const [, changed] = await db.batch([
    operatorAuditEntryWhere(
      ctx,
      db,
      {
        action: change.to === "suspended" ? "tenant.suspend" : "tenant.reactivate",
        tenantId: tenant.id,
        target: { type: "tenant", id: tenant.id },
        reason,
        before: { status: change.from },
        after: { status: change.to },
      },
      sql`EXISTS (SELECT 1 FROM ${tenants} WHERE ${inFrom})`,
    ),
    db
      .update(tenants)
      .set({ status: change.to, updatedAt: now })
      .where(inFrom)
      .returning({ id: tenants.id }),
  ]);
  if (changed.length !== 1) {
    throw new ProblemError(
      409,
      change.to === "suspended" ? "tenant_not_active" : "tenant_not_suspended",
      "Conflict",
      `The tenant is not ${change.from}; nothing was changed.`,
    );
  }
  return { id: tenant.id, slug: tenant.slug, status: change.to };
}

export function suspendTenant({
  ctx,
  input,
}: {
  ctx: OperatorContext;
  input: { id: string; reason: string };
}) {
  return changeStatus(ctx, input, { from: "active", to: "suspended" });
}

export function reactivateTenant({
  ctx,
  input,
}: {
  ctx: OperatorContext;
  input: { id: string; reason: string };
}) {
  return changeStatus(ctx, input, { from: "suspended", to: "active" });
}
