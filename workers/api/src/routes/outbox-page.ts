import type { OutboxMail as OutboxRow } from "../services/mailer";

/** No scripts, no outside resources: the page shows mailed links, which are secrets. */
export const OUTBOX_PAGE_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch]!,
  );

/** http(s) URLs, without the punctuation that usually ends a sentence after one. */
const URL_PATTERN = /https?:\/\/[^\s<>"']*[^\s<>"'.,;:!?)]/g;

/** Escapes `text` and turns each http(s) URL in it into a link. */
export function linkify(text: string): string {
  let html = "";
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    const url = escapeHtml(match[0]);
    html += `${escapeHtml(text.slice(last, match.index))}<a href="${url}" rel="noreferrer">${url}</a>`;
    last = match.index + match[0].length;
  }
  return html + escapeHtml(text.slice(last));
}

/** The development outbox as a page: newest first, every URL in a mail clickable. */
export function outboxPage(rows: OutboxRow[], to: string | undefined): string {
  const mails = rows
    .map(
      (m) => `<article>
<h2>${escapeHtml(m.subject)}</h2>
<dl><dt>to</dt><dd>${escapeHtml(m.to)}</dd><dt>time</dt><dd><time datetime="${new Date(m.createdAt).toISOString()}">${new Date(m.createdAt).toISOString()}</time></dd><dt>tenant</dt><dd>${escapeHtml(m.tenantId ?? "none")}</dd></dl>
<pre>${linkify(m.text)}</pre>
</article>`,
    )
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"/><title>Mail outbox (development)</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}article{border-top:1px solid #ccc;padding:.5rem 0}h2{font-size:1.1rem;margin:.5rem 0}dl{display:grid;grid-template-columns:max-content 1fr;gap:0 1rem;margin:0;color:#555}dd{margin:0}pre{white-space:pre-wrap;background:#f6f6f6;padding:.75rem}</style>
</head><body>
<h1>Mail outbox${to ? ` for ${escapeHtml(to)}` : ""}</h1>
<p>Development only: what the mailer would have sent, newest first (at most 50). JSON: <a href="?format=json${to ? `&amp;to=${encodeURIComponent(to)}` : ""}">?format=json</a></p>
${mails || "<p>No mail yet.</p>"}
</body></html>`;
}
