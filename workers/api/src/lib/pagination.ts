import { z } from "@hono/zod-openapi";
import type { TenantDb } from "@tenantry/core";
import { and, desc, lt, type SQL } from "drizzle-orm";
import type { SQLiteColumn, SQLiteTable } from "drizzle-orm/sqlite-core";

/** Cursor pagination over time-sortable ids, newest first. The cursor is the last id seen. */
export const PageQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(25).openapi({ example: 25 }),
  cursor: z
    .string()
    .max(64)
    .regex(/^[a-z]+_[0-9A-Z]+$/)
    .optional(),
});
export type PageQuery = z.infer<typeof PageQuerySchema>;

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

type Listable = SQLiteTable & { id: SQLiteColumn; $inferSelect: { id: string } };

/**
 * One page of a tenant table, newest first, rendered with `view`. Fetches `limit + 1` rows: the
 * extra row only tells whether there is a next page.
 */
export async function listPage<T extends Listable, V>(
  db: TenantDb,
  table: T,
  page: PageQuery,
  view: (row: T["$inferSelect"]) => V,
  where?: SQL,
): Promise<Page<V>> {
  const rows = (await db.orm
    .select()
    .from(table as SQLiteTable)
    .where(and(where, page.cursor ? lt(table.id, page.cursor) : undefined))
    .orderBy(desc(table.id))
    .limit(page.limit + 1)) as T["$inferSelect"][];
  const data = rows.slice(0, page.limit);
  const last = data[data.length - 1];
  return { data: data.map(view), next_cursor: rows.length > page.limit && last ? last.id : null };
}

export function pageSchema<T extends z.ZodType>(item: T) {
  return z.object({ data: z.array(item), next_cursor: z.string().nullable() });
}
