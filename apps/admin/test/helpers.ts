import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { controlDb } from "@tenantry/core";
import { randomSecret, sha256Hex } from "@tenantry/core/crypto";
import { newId } from "@tenantry/schema";
import { type OperatorRole, operators, operatorTokens } from "@tenantry/schema/control";
import { adminApi } from "../server/api";
import { OPERATOR_TOKEN_PREFIX } from "../server/auth";

export const ADMIN = "http://admin.localhost:8787";

/** An active operator with `role` and an API token carrying that role. */
export async function operatorWithToken(role: OperatorRole) {
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
      expiresAt: now + 3_600_000,
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
