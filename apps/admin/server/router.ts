import { OpenAPIHono, z } from "@hono/zod-openapi";
import { ValidationError, type WorkerVariables } from "@tenantry/core";
import { createMiddleware } from "hono/factory";
import { assertCan, operatorFromToken, unauthorized } from "./auth";
import type { Operator, OperatorContext } from "./context";
import type { AdminEnv } from "./env";
import type { OperatorPermission } from "./roles";

export interface AdminApiEnv {
  Bindings: AdminEnv;
  Variables: WorkerVariables & { operator: Operator };
}

/**
 * A router of the admin JSON API (one per area, in server/routes/, mounted in api.ts): invalid
 * input becomes a 400 problem before any handler.
 */
export function newAdminRouter() {
  return new OpenAPIHono<AdminApiEnv>({
    defaultHook: (result) => {
      if (!result.success) throw ValidationError.fromZod(result.error, result.target);
    },
  });
}

/**
 * The gate of every admin API route: an operator API token (`Authorization: Bearer tnop_…`)
 * whose role grants `permission`. Tenant credentials are not operator tokens: 401.
 */
export function operatorRoute(permission: OperatorPermission) {
  return createMiddleware<AdminApiEnv>(async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const token = header.startsWith("Bearer ") ? header.slice(7).trim() : "";
    const operator = token
      ? await operatorFromToken(c.env, token, (p) => c.executionCtx.waitUntil(p))
      : null;
    if (!operator) throw unauthorized();
    assertCan(operator, permission);
    c.set("operator", operator);
    await next();
  });
}

/** The verb context of an admin API request. */
export function operatorContext(c: {
  env: AdminEnv;
  get(key: "operator"): Operator;
  get(key: "requestId"): string;
  req: { header(name: string): string | undefined };
}): OperatorContext {
  return {
    env: c.env,
    requestId: c.get("requestId"),
    ip: c.req.header("cf-connecting-ip") ?? null,
    operator: c.get("operator"),
  };
}

const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string(),
    request_id: z.string(),
  })
  .openapi("Problem");

const problem = (description: string) => ({
  description,
  content: { "application/problem+json": { schema: ProblemSchema } },
});

/** The answers every operator route can give besides its own. */
export const operatorErrors = {
  400: problem("Invalid request"),
  401: problem("No operator credential, or not a valid one"),
  403: problem("The operator's role lacks the permission"),
  404: problem("Not found"),
} as const;

export const operatorSecurity: Record<string, string[]>[] = [{ operatorToken: [] }];

export const jsonResponse = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { "application/json": { schema } },
});
