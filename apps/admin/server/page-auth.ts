import { ProblemError } from "@tenantry/core";
import { parse } from "hono/utils/cookie";
import { data, type RouterContextProvider, redirect } from "react-router";
import { operatorFromSession, sessionCookieName } from "./auth";
import type { OperatorContext } from "./context";
import { adminRequest } from "./request";
import { can, type OperatorPermission } from "./roles";

export interface PageOperatorContext extends OperatorContext {
  /** This session's CSRF token: every form posts it back (`verifyCsrf`). */
  csrfToken: string;
}

/**
 * The gate of every operator page: a live session cookie (else to /sign-in, coming back here),
 * and a role that grants `permission` (else 403).
 */
export async function requireOperator(
  { request, context }: { request: Request; context: Readonly<RouterContextProvider> },
  permission: OperatorPermission,
): Promise<PageOperatorContext> {
  const req = context.get(adminRequest);
  const secret = parse(request.headers.get("cookie") ?? "")[sessionCookieName(req.env)];
  const session = secret ? await operatorFromSession(req.env, secret, req.waitUntil) : null;
  if (!session) {
    const url = new URL(request.url);
    throw redirect(`/sign-in?next=${encodeURIComponent(url.pathname + url.search)}`);
  }
  if (!can(session.role, permission)) {
    throw data(`Your operator role (${session.role}) does not include ${permission}.`, {
      status: 403,
    });
  }
  const { csrfToken, ...operator } = session;
  return { env: req.env, requestId: req.requestId, ip: req.ip, operator, csrfToken };
}

/**
 * A service's refusal as the action's answer (the form shows `error`); anything unexpected
 * is rethrown to the error boundary.
 */
export function formError(err: unknown) {
  if (!(err instanceof ProblemError)) throw err;
  return data({ error: err.message }, { status: err.status, headers: err.headers });
}
