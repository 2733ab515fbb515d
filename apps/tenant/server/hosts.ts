import { type MiddlewareFunction, redirect } from "react-router";
import type { TenantAppEnv } from "./env";
import { tenantAppRequest } from "./request";

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
 * Root middleware: the apex has sign-up and nothing else. Signed-in pages there would be a second
 * origin holding sessions (no tenant resolves on it), so every other path goes back to `/`.
 */
export const apexMiddleware: MiddlewareFunction<Response> = async ({ request, context }, next) => {
  const { env } = context.get(tenantAppRequest);
  if (isApex(request, env) && !APEX_PAGES.has(pagePath(new URL(request.url).pathname)))
    throw redirect("/");
  return next();
};
