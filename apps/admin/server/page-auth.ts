import { ProblemError, renderProblem } from "@tenantry/core";
import { safeEqual } from "@tenantry/core/crypto";
import { parse, serialize } from "hono/utils/cookie";
import { data, type RouterContextProvider, redirect } from "react-router";
import { operatorFromSession, SESSION_MAX_AGE_MS, sessionCookieName } from "./auth";
import type { AdminRequestContext, OperatorContext } from "./context";
import { type AdminEnv, adminConfig } from "./env";
import { adminRequest } from "./request";
import { can, type OperatorPermission } from "./roles";

export interface PageOperatorContext extends OperatorContext {
  /** This session's CSRF token: every form posts it back (`verifyCsrf`). */
  csrfToken: string;
}

type PageArgs = { request: Request; context: Readonly<RouterContextProvider> };

/** The request context of a page before anyone is signed in (sign-in, setup links). */
export function pageRequestContext({ context }: PageArgs): AdminRequestContext {
  const req = context.get(adminRequest);
  return { env: req.env, requestId: req.requestId, ip: req.ip };
}

/** The signed-in operator of a page request, or null: Access's operator, else the session's. */
export async function currentOperator({
  request,
  context,
}: PageArgs): Promise<PageOperatorContext | null> {
  const req = context.get(adminRequest);
  const base = { env: req.env, requestId: req.requestId, ip: req.ip };
  if (req.access) return { ...base, ...req.access };
  const secret = parse(request.headers.get("cookie") ?? "")[sessionCookieName(req.env)];
  const session = secret ? await operatorFromSession(req.env, secret, req.waitUntil) : null;
  if (!session) return null;
  const { csrfToken, ...operator } = session;
  return { ...base, operator, csrfToken };
}

/**
 * The gate of every operator page: a signed-in operator (else to /sign-in, coming back here),
 * whose role grants `permission` (else 403).
 */
export async function requireOperator(
  args: PageArgs,
  permission: OperatorPermission,
): Promise<PageOperatorContext> {
  const ctx = await currentOperator(args);
  if (!ctx) {
    const url = new URL(args.request.url);
    throw redirect(`/sign-in?next=${encodeURIComponent(url.pathname + url.search)}`);
  }
  if (!can(ctx.operator.role, permission)) {
    throw data(`Your operator role (${ctx.operator.role}) does not include ${permission}.`, {
      status: 403,
    });
  }
  return ctx;
}

/** Every action's CSRF check: the form's `csrf` field must be this session's token. */
export function verifyCsrf(form: FormData, ctx: PageOperatorContext): void {
  const sent = form.get("csrf");
  if (typeof sent !== "string" || !safeEqual(sent, ctx.csrfToken)) {
    const { PUBLIC_SCHEME, BASE_DOMAIN } = adminConfig(ctx.env);
    throw csrfProblem(ctx.requestId, `${PUBLIC_SCHEME}://admin.${BASE_DOMAIN}/`);
  }
}

/**
 * The CSRF check of forms posted before a session exists (sign-in, setup links). An origin check
 * rather than a double-submit cookie: every browser sends `Origin` on a form POST, a cross-site
 * page cannot forge it, and it needs no extra cookie or state. A POST without one is refused.
 */
export function verifySameOrigin(request: Request, ctx: AdminRequestContext): void {
  if (request.headers.get("origin") !== new URL(request.url).origin) {
    throw csrfProblem(ctx.requestId, request.url);
  }
}

/** A thrown Response: React Router answers it as is (403 problem), not as a 500. */
function csrfProblem(requestId: string, url: string): Response {
  const problem = new ProblemError(
    403,
    "csrf_failed",
    "Forbidden",
    "The form is stale or came from another site; reload the page and try again.",
  );
  return renderProblem(problem, { requestId, url });
}

/**
 * A service's refusal as the action's answer (the form shows `error`); anything unexpected
 * is rethrown to the error boundary.
 */
export function formError(err: unknown) {
  if (!(err instanceof ProblemError)) throw err;
  return data({ error: err.message }, { status: err.status, headers: err.headers });
}

/** `next` after sign-in: a path on this host only (never `//evil` or `/\evil`). */
export function safeNext(next: string | null): string {
  return next && /^\/(?![/\\])/.test(next) ? next : "/";
}

/**
 * The session cookie: HttpOnly, SameSite=Strict, Path=/; with https also Secure and `__Host-`
 * (see sessionCookieName), so no subdomain can set or read it.
 */
export function sessionCookie(env: AdminEnv, secret: string | null): string {
  const secure = adminConfig(env).PUBLIC_SCHEME === "https";
  return serialize(sessionCookieName(env), secret ?? "", {
    httpOnly: true,
    sameSite: "Strict",
    secure,
    path: "/",
    maxAge: secret ? SESSION_MAX_AGE_MS / 1000 : 0,
  });
}
