import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../context";
import { ForbiddenError } from "../errors";

/**
 * The owner's "require MFA for every member" policy (ADR 023): a signed-in member without MFA
 * may only enrol, read /v1/me and sign out until enrolled. API keys are not sign-ins and pass.
 */
export const requireMfaEnrolment = createMiddleware<AppEnv>(async (c, next) => {
  const actor = c.get("actor");
  if (actor.type === "user" && actor.mfaEnrolmentRequired) {
    throw new ForbiddenError(
      "This workspace requires two-factor authentication: set it up first (POST /v1/me/mfa/enrol).",
      "mfa_enrolment_required",
    );
  }
  await next();
});
