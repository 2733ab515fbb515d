// EXAMPLE PRODUCT: the id prefixes of the product's own entities, merged into the one prefix map
// in `schema/src/ids.ts` (a fork replaces these with its own).
export const PRODUCT_ID_PREFIXES = {
  project: "prj",
  task: "tsk",
} as const;
