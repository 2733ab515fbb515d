/**
 * CSV for spreadsheets (RFC 4180: every field quoted, quotes doubled, CRLF rows). A cell that
 * starts like a formula (`=`, `+`, `-`, `@`, or a tab or CR that some spreadsheets skip) gets a
 * leading `'`, so opening an export never runs what an operator or tenant typed into a reason.
 */
export function csvRow(cells: readonly (string | number | null | undefined)[]): string {
  return `${cells.map((cell) => csvCell(cell == null ? "" : String(cell))).join(",")}\r\n`;
}

function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return `"${safe.replaceAll('"', '""')}"`;
}

/** A CSV download: rows stream as they are read, never held whole. */
export function csvResponse(body: ReadableStream<Uint8Array>, filename: string): Response {
  return new Response(body, {
    headers: {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="${filename}"`,
      "cache-control": "no-store",
    },
  });
}
