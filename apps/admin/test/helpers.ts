import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { controlDb } from "@tenantry/core";
import { hashPassword, randomSecret, sha256Hex } from "@tenantry/core/crypto";
import { newId } from "@tenantry/schema";
import { type OperatorRole, operators, operatorTokens } from "@tenantry/schema/control";
import { adminApi } from "../server/api";
import { OPERATOR_TOKEN_PREFIX } from "../server/auth";
import type { AdminRequestContext } from "../server/context";
import { newTotpSecret } from "../server/totp";

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
