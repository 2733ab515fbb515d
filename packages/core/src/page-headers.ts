/**
 * Headers of every server-rendered page (admin and tenant apps): a strict CSP (scripts only with
 * this response's nonce, nothing framed, no foreign origins), no caching of account data, no
 * referrer leaks.
 */
export function pageSecurityHeaders(
  headers: Headers,
  nonce: string,
  /** Origins a form may also post or be redirected to (CSP governs a form's redirects too). */
  formTargets: string[] = [],
): void {
  headers.set(
    "content-security-policy",
    [
      "default-src 'self'",
      `script-src 'nonce-${nonce}' 'strict-dynamic'`,
      // React renders style attributes (charts); scripts, not styles, are what a nonce must guard.
      "style-src 'self' 'unsafe-inline'",
      "img-src 'self' data:",
      "connect-src 'self'",
      "object-src 'none'",
      "base-uri 'none'",
      ["form-action 'self'", ...formTargets].join(" "),
      "frame-ancestors 'none'",
    ].join("; "),
  );
  headers.set("x-frame-options", "DENY");
  headers.set("x-content-type-options", "nosniff");
  headers.set("referrer-policy", "same-origin");
  headers.set("cache-control", "no-store");
}

/** A fresh CSP nonce (128 random bits, base64). */
export function newNonce(): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
}
