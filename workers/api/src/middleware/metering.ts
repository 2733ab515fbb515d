import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../context";
import { config } from "../env";
import { TooManyRequestsError } from "../errors";
import { meterFor } from "../meter/client";

/**
 * The edge check of every authenticated tenant request, before any service runs: the tenant's
 * and the API key's request budgets (per second and per minute, by plan), the smaller budget of
 * expensive routes, and one `api_calls` against the monthly quota. Refusals are 429 problems
 * with Retry-After; every answer carries RateLimit-Limit/Remaining/Reset for the budget closest
 * to running out.
 */
export function meterRequest(expensive: boolean) {
  return createMiddleware<AppEnv>(async (c, next) => {
    if (config(c.env).METERING === "off") return next();
    const tenant = c.get("tenant");
    const actor = c.get("actor");
    const result = await meterFor(c.env, tenant.id).admit(tenant.id, {
      apiKeyId: actor.type === "api_key" ? actor.id : null,
      expensive,
    });
    const headers = {
      "RateLimit-Limit": String(result.quota.limit),
      "RateLimit-Remaining": String(result.quota.remaining),
      "RateLimit-Reset": String(result.quota.reset),
    };
    if (!result.allowed) {
      throw new TooManyRequestsError(
        `Over the ${result.reason}; retry after ${result.retryAfter} s.`,
        result.retryAfter,
        "rate_limited",
        { limit: result.reason },
        headers,
      );
    }
    await next();
    for (const [name, value] of Object.entries(headers)) c.res.headers.set(name, value);
  });
}
