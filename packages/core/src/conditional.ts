import { getTableColumns, type SQL, sql } from "drizzle-orm";
import type { DrizzleD1Database } from "drizzle-orm/d1";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";

/**
 * `INSERT INTO table (...) SELECT ... WHERE condition`: an insert that happens only if an earlier
 * statement of the same batch really changed what `condition` checks (an invitation claimed, a
 * role changed). D1 batches run as one transaction but every statement runs: a plain insert
 * beside a guarded update would be written even when the guard matched nothing.
 */
export function insertWhere<T extends SQLiteTable>(
  orm: DrizzleD1Database<Record<string, unknown>>,
  table: T,
  values: T["$inferInsert"],
  condition: SQL,
) {
  const given = values as Record<string, unknown>;
  // drizzle lists every insertable column, in the table's order, before an INSERT … SELECT.
  const selected = Object.entries(getTableColumns(table)).map(([name, column]) => {
    const value = given[name] ?? (typeof column.default === "object" ? null : column.default);
    return sql`${value ?? null}`;
  });
  return orm.insert(table).select(sql`SELECT ${sql.join(selected, sql`, `)} WHERE ${condition}`);
}
