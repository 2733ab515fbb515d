import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { controlDb } from "@tenantry/core";
import { hashPassword, randomSecret, sha256Hex } from "@tenantry/core/crypto";
import { newTotpSecret } from "@tenantry/core/totp";
import { newId } from "@tenantry/schema";
import {
  type OperatorRole,
  operatorSessions,
  operators,
  operatorTokens,
} from "@tenantry/schema/control";
import { RouterContextProvider } from "react-router";
import { adminApi } from "../server/api";
import { OPERATOR_TOKEN_PREFIX, sessionCookieName } from "../server/auth";
import type { AdminRequestContext } from "../server/context";
import { adminRequest, newAdminRequest } from "../server/request";

export const ADMIN = "http://admin.localhost:8787";

/** An active operator with `role` and an API token carrying that role (`expiresInMs` from now). */
export async function operatorWithToken(role: OperatorRole, expiresInMs = 3_600_000) {
  const db = controlDb(env);
  const id = newId("operator");
  const now = Date.now();
  const email = `${id.toLowerCase()}@ops.example`;
  const token = `${OPERATOR_TOKEN_PREFIX}${randomSecret()}`;
  await db.batch([
    db.insert(operators).values({
      id,
      email,
      name: `Operator ${role}`,
      role,
      status: "active",
      createdAt: now,
      updatedAt: now,
    }),
    db.insert(operatorTokens).values({
      id: newId("operatorToken"),
      operatorId: id,
      name: "test",
      secretHash: await sha256Hex(token),
      role,
      createdAt: now,
      expiresAt: now + expiresInMs,
    }),
  ]);
  return { id, email, token };
}

/** A request to the admin JSON API, in this isolate, over the test bindings; waits for its tail. */
export async function adminFetch(path: string, init: RequestInit & { token?: string } = {}) {
  const { token, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (token) headers.set("authorization", `Bearer ${token}`);
  if (rest.body && !headers.has("content-type")) headers.set("content-type", "application/json");
  const ctx = createExecutionContext();
  const response = await adminApi.fetch(
    new Request(`${ADMIN}${path}`, { ...rest, headers }),
    env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return response;
}

export const OPERATOR_PASSWORD = "operator correct horse battery";

/** An active operator enrolled for password + TOTP sign-in, with its TOTP secret. */
export async function operatorWithPassword(role: OperatorRole = "read_only") {
  const id = newId("operator");
  const now = Date.now();
  const email = `${id.toLowerCase()}@ops.example`;
  const totpSecret = newTotpSecret();
  await controlDb(env)
    .insert(operators)
    .values({
      id,
      email,
      name: `Operator ${role}`,
      role,
      status: "active",
      passwordHash: await hashPassword(OPERATOR_PASSWORD),
      totpSecret,
      createdAt: now,
      updatedAt: now,
    });
  return { id, email, totpSecret };
}

/** A request context from a client address of its own (throttles count per address). */
export function requestContext(ip: string = crypto.randomUUID()): AdminRequestContext {
  return { env, requestId: newId("request"), ip };
}

/** The platform audit rows a request wrote (by its request id). */
export async function auditRowsOf(requestId: string | null) {
  const { results } = await env.CONTROL_DB.prepare(
    "SELECT * FROM platform_audit_log WHERE request_id = ?",
  )
    .bind(requestId)
    .all<Record<string, unknown>>();
  return results;
}

/**
 * An operator signed in to the pages without the sign-in form (its own tests cover it): a live
 * session row, its cookie and CSRF token, and an API token of the same role.
 */
export async function operatorSignedIn(role: OperatorRole) {
  const op = await operatorWithToken(role);
  const secret = randomSecret();
  const csrf = randomSecret();
  const now = Date.now();
  await controlDb(env)
    .insert(operatorSessions)
    .values({
      id: newId("operatorSession"),
      operatorId: op.id,
      secretHash: await sha256Hex(secret),
      csrfToken: csrf,
      createdAt: now,
      lastSeenAt: now,
      expiresAt: now + 3_600_000,
    });
  return { ...op, csrf, cookie: `${sessionCookieName(env)}=${secret}` };
}

/**
 * Runs a page's loader or action on `path` as the worker entry hands it to React Router, with
 * `as`'s cookie; a thrown answer (redirect, 403, CSRF problem) is returned too.
 */
export async function runPage(
  fn: (args: never) => Promise<unknown>,
  path: string,
  opts: {
    as?: { cookie: string };
    form?: Record<string, string>;
    params?: Record<string, string>;
  } = {},
): Promise<any> {
  const ctx = createExecutionContext();
  const request = new Request(`${ADMIN}${path}`, {
    method: opts.form ? "POST" : "GET",
    headers: opts.as ? { cookie: opts.as.cookie } : {},
    body: opts.form ? new URLSearchParams(opts.form) : undefined,
  });
  const context = new RouterContextProvider();
  context.set(adminRequest, newAdminRequest(request, env, ctx));
  try {
    return await fn({ request, context, params: opts.params ?? {} } as never);
  } catch (thrown) {
    return thrown;
  } finally {
    await waitOnExecutionContext(ctx);
  }
}
