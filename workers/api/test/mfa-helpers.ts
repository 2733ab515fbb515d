import { totpCode } from "@tenantry/core/totp";
import { expect } from "vitest";
import { STEP_UP_WINDOW_MS } from "../src/services/mfa";
import { api, type TestTenant, tenantD1 } from "./helpers";

export interface Enrolled {
  secret: string;
  recoveryCodes: string[];
}

/** Enrols the owner through the API: start, then confirm with the current code. */
export async function enrolOwner(t: TestTenant): Promise<Enrolled> {
  const start = await api("POST", "/v1/me/mfa/enrol", { slug: t.slug, token: t.owner.token });
  expect(start.status, JSON.stringify(start.body)).toBe(201);
  const confirm = await api("POST", "/v1/me/mfa/confirm", {
    slug: t.slug,
    token: t.owner.token,
    body: { code: totpCode(start.body.secret) },
  });
  expect(confirm.status, JSON.stringify(confirm.body)).toBe(200);
  return { secret: start.body.secret, recoveryCodes: confirm.body.recovery_codes };
}

/**
 * A current code that has not been used yet: tests act faster than one 30-second step, so the
 * record of the last accepted step is cleared first (the once-only rule has its own test).
 */
export async function unusedCode(t: TestTenant, secret: string) {
  await tenantD1(t).prepare("UPDATE mfa_factors SET last_step = NULL").run();
  return totpCode(secret);
}

/** Ages the owner's sessions' last MFA proof beyond the step-up window. */
export async function expireStepUp(t: TestTenant) {
  await tenantD1(t)
    .prepare("UPDATE sessions SET mfa_verified_at = ?")
    .bind(Date.now() - STEP_UP_WINDOW_MS - 1000)
    .run();
}
