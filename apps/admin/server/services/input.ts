import { ValidationError } from "@tenantry/core";
import type { z } from "zod";

/**
 * Verbs parse their own input (pages call them without the API's validation): what does not
 * parse is the same 400 problem the JSON API gives, naming the fields.
 */
export function parseInput<T extends z.ZodType>(
  schema: T,
  value: unknown,
  target: "json" | "query" = "json",
): z.output<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw ValidationError.fromZod(result.error, target);
  return result.data;
}
