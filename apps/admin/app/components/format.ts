/** A value as a table cell shows it: an em dash for nothing. */
export const text = (v: unknown) => (v === null || v === undefined || v === "" ? "—" : String(v));
