import type { TenantAppEnv } from "./env";

/** Whether this request is for the apex (`<BASE_DOMAIN>`), which serves sign-up, not a tenant. */
export function isApex(request: Request, env: TenantAppEnv): boolean {
  return new URL(request.url).host === env.BASE_DOMAIN.toLowerCase();
}

/** The apex's pages; React Router's data requests for them (`/_.data`, `<path>.data`) too. */
const APEX_PAGES = new Set(["/", "/signup/confirm", "/favicon.ico", "/__manifest"]);

function pagePath(pathname: string): string {
  if (pathname === "/_.data") return "/";
  return pathname.endsWith(".data") ? pathname.slice(0, -".data".length) : pathname;
}

/**
 * The apex has sign-up and nothing else: signed-in pages there would be a second origin holding
 * sessions (no tenant resolves on it), so every other path, known to the router or not, goes
 * back to `/`. Null when the request may proceed.
 */
export function apexRedirect(request: Request, env: TenantAppEnv): Response | null {
  if (!isApex(request, env) || APEX_PAGES.has(pagePath(new URL(request.url).pathname))) return null;
  return new Response(null, { status: 302, headers: { location: "/" } });
}

/**
 * Where the apex's forms lead: sign-up redirects the browser to the new tenant's host (ADR 018),
 * which the CSP's `form-action` must allow or the browser stops the redirect.
 */
export function apexFormTargets(request: Request, env: TenantAppEnv): string[] {
  return isApex(request, env) ? [`${env.PUBLIC_SCHEME ?? "http"}://*.${env.BASE_DOMAIN}`] : [];
}
