import { z } from "@hono/zod-openapi";
import { tenantDb } from "@tenantry/core";
import type { Context } from "hono";
import type { AppEnv, ServiceContext, TenantRequestContext } from "../context";
import { clientIp } from "../lib/request";

/** Builds the service context from what the middleware set; services get nothing else. */
export function serviceContext(c: Context<AppEnv>): ServiceContext {
  const tenant = c.get("tenant");
  return {
    env: c.env,
    tenant,
    actor: c.get("actor"),
    db: tenantDb(c.env, tenant),
    requestId: c.get("requestId"),
    ip: clientIp(c.req.raw),
  };
}

export function requestMeta(c: Context<AppEnv>) {
  return { requestId: c.get("requestId"), ip: clientIp(c.req.raw) };
}

/** The context of a public route on a tenant's host (the tenant middleware ran). */
export function tenantRequestContext(c: Context<AppEnv>): TenantRequestContext {
  return { env: c.env, tenant: c.get("tenant"), ...requestMeta(c) };
}

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string(),
    code: z.string(),
    request_id: z.string(),
  })
  .openapi("Problem");

export const problem = (description: string) => ({
  description,
  content: { "application/problem+json": { schema: ProblemSchema } },
});

export const conflictError = problem("Conflict with the current state");
export const unavailableError = problem("Temporarily unavailable; retry after Retry-After");

/** Error responses every authenticated tenant route can give. */
export const tenantErrors = {
  400: problem("Invalid request"),
  401: problem("Missing or invalid credential"),
  403: problem("Missing permission, or tenant suspended"),
  404: problem("Not found (including other tenants' resources)"),
  429: problem("Too many requests"),
} as const;

export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { "application/json": { schema } },
});

export const jsonResponse = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

export const IdParamSchema = z.object({ id: z.string().max(64) });

/** Either credential (both are `Authorization: Bearer`): alternatives, not both at once. */
export const security: Record<string, string[]>[] = [{ bearerJwt: [] }, { apiKey: [] }];

/** Routes only a signed-in member can call (a session's access token, not an API key). */
export const sessionSecurity: Record<string, string[]>[] = [{ bearerJwt: [] }];
