import { invalidRequest } from "./errors.js";
import { lookupObject } from "./render.js";
import type { EmulatorState } from "./state.js";
import type { JsonObject } from "./wire.js";

const MAX_DEPTH = 4;

/**
 * `expand[]` (https://docs.stripe.com/expand): replaces id strings along dotted paths with the
 * objects they name; `data.` walks into lists; at most four levels deep.
 */
export function expandObject(state: EmulatorState, root: unknown, paths: string[]): unknown {
  for (const path of paths) {
    const segments = path.split(".");
    if (segments.length > MAX_DEPTH) {
      throw invalidRequest(
        `You cannot expand more than ${MAX_DEPTH} levels of a property. Property: ${path}`,
        "expand",
      );
    }
    expandPath(state, root, segments, path);
  }
  return root;
}

function expandPath(state: EmulatorState, node: unknown, segments: string[], path: string): void {
  const [head, ...rest] = segments;
  if (head === undefined || node === null || typeof node !== "object") return;
  if (Array.isArray(node)) {
    for (const entry of node) expandPath(state, entry, segments, path);
    return;
  }
  const obj = node as JsonObject;
  if (!(head in obj)) {
    throw invalidRequest(`This property cannot be expanded (${head}).`, "expand");
  }
  let value = obj[head];
  if (typeof value === "string") {
    const found = lookupObject(state, value);
    if (!found) {
      throw invalidRequest(`This property cannot be expanded (${path}).`, "expand");
    }
    obj[head] = found;
    value = found;
  }
  if (rest.length > 0) expandPath(state, value, rest, path);
}
