import { invalidParam, invalidRequest } from "./errors.js";
import type { Params } from "./params.js";
import { list } from "./render.js";
import type { ListObject } from "./wire.js";

/** `created` (and similar) filters: an exact timestamp or `{ gt, gte, lt, lte }`. */
export function matchesRange(params: Params, key: string, value: number): boolean {
  if (!params.has(key)) return true;
  const exact = params.raw[key];
  if (typeof exact === "string") return value === params.int(key);
  const range = params.obj(key);
  if (!range) return true;
  const gt = range.int("gt");
  const gte = range.int("gte");
  const lt = range.int("lt");
  const lte = range.int("lte");
  return (
    (gt === undefined || value > gt) &&
    (gte === undefined || value >= gte) &&
    (lt === undefined || value < lt) &&
    (lte === undefined || value <= lte)
  );
}

/**
 * Cursor pagination as https://docs.stripe.com/api/pagination describes: newest first,
 * `limit` 1–100 (default 10), `starting_after` / `ending_before` object ids.
 */
export function paginate<T extends { id: string }>(
  items: T[],
  params: Params,
  url: string,
): ListObject<T> {
  const limit = params.int("limit") ?? 10;
  if (limit < 1 || limit > 100) {
    throw invalidParam("limit", `Invalid limit: must be between 1 and 100; you passed ${limit}.`);
  }
  const startingAfter = params.str("starting_after");
  const endingBefore = params.str("ending_before");
  if (startingAfter && endingBefore) {
    throw invalidRequest(
      "You may only specify one of these parameters: ending_before, starting_after.",
    );
  }
  if (startingAfter) {
    const index = items.findIndex((item) => item.id === startingAfter);
    if (index === -1)
      throw invalidParam(
        "starting_after",
        `No such object: '${startingAfter}'`,
        "resource_missing",
      );
    const rest = items.slice(index + 1);
    return list(rest.slice(0, limit), url, rest.length > limit);
  }
  if (endingBefore) {
    const index = items.findIndex((item) => item.id === endingBefore);
    if (index === -1)
      throw invalidParam("ending_before", `No such object: '${endingBefore}'`, "resource_missing");
    const before = items.slice(0, index);
    return list(before.slice(Math.max(0, before.length - limit)), url, before.length > limit);
  }
  return list(items.slice(0, limit), url, items.length > limit);
}
