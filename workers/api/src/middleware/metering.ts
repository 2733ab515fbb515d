import type { AdmissionClass } from "@tenantry/core";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../context";
import { config } from "../env";
import { ForbiddenError, TooManyRequestsError } from "../errors";
import { type Admission, admit } from "../meter/admission";
import { isFromTenantApp } from "../tenant-app-entry";

/** Admits the request from the tenant's meter (through this isolate's lease), or null when off. */
export async function admitRequest(
  c: Context<AppEnv>,
  cls: AdmissionClass,
): Promise<Admission | null> {
  if (config(c.env).METERING === "off") return null;
  const actor = c.get("actor");
  // A person using the tenant app is not API usage (ADR 022); API keys always are.
  const app = cls === "standard" && actor.type === "user" && isFromTenantApp(c.req.raw);
  return admit(c.env, {
    tenantId: c.get("tenant").id,
    apiKeyId: actor.type === "api_key" ? actor.id : null,
    cls: app ? "app" : cls,
    waitUntil: (p) => c.executionCtx.waitUntil(p),
  });
}

export function refusal(admission: Extract<Admission, { allowed: false }>) {
  return new TooManyRequestsError(
    `Over the ${admission.reason}; retry after ${admission.retryAfter} s.`,
    admission.retryAfter,
    "rate_limited",
    { limit: admission.reason },
    admission.headers,
  );
}

/**
 * The edge check of every authenticated tenant request, after its permission and before any
 * service runs: the request budgets of its class (see `AdmissionClass`) and, for standard and
 * expensive requests, one `api_calls` against the monthly quota. Refusals are 429 problems with
 * Retry-After; every answer carries RateLimit-Limit/Remaining/Reset for the budget closest to
 * running out. API keys are refused when the plan lacks `api_access`.
 */
export function meterRequest(cls: AdmissionClass) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const admission = await admitRequest(c, cls);
    if (!admission) return next();
    if (!admission.allowed) throw refusal(admission);
    if (!admission.apiAccess && c.get("actor").type === "api_key") {
      throw new ForbiddenError(
        "The plan does not include API access; sign in instead, or upgrade.",
        "feature_not_in_plan",
        { feature: "api_access" },
        admission.headers,
      );
    }
    await next();
    for (const [name, value] of Object.entries(admission.headers)) c.res.headers.set(name, value);
  });
}
