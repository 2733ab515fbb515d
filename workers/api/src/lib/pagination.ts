import { z } from "@hono/zod-openapi";

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

/** Callers fetch `limit + 1` rows; the extra row only tells whether there is a next page. */
export function toPage<T extends { id: string }>(rows: T[], limit: number): Page<T> {
  const data = rows.slice(0, limit);
  return { data, next_cursor: rows.length > limit ? (data[data.length - 1]?.id ?? null) : null };
}

export function pageSchema<T extends z.ZodType>(item: T) {
  return z.object({ data: z.array(item), next_cursor: z.string().nullable() });
}
