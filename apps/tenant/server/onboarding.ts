import type { TenantryClient } from "@tenantry/client";
import { apiFailure } from "./api";

/**
 * The first-run checklist's progress, read from the API's state (not from this browser), so it
 * is the same on every device and after signing out. Each step is null when the caller's role
 * may not read what decides it (the API answers 403): the checklist then leaves it out.
 * Email verification and the plan come from `GET /v1/me`, which the layout loads (the plan as
 * the billing sync recorded it, so the dashboard never waits on Stripe).
 */
export interface OnboardingProgress {
  project: boolean | null;
  teammate: boolean | null;
}

/** A list call's answer: its data, null for 403; a 401 or any other failure is thrown. */
function readable<T>(
  r: { data?: T; error?: unknown; response: Response },
  signedOut: () => Response,
) {
  if (r.response.status === 401) throw signedOut();
  if (r.response.status === 403) return null;
  if (!r.data) throw apiFailure(r);
  return r.data;
}

export async function onboardingProgress(
  api: TenantryClient,
  signedOut: () => Response,
): Promise<OnboardingProgress> {
  const [projects, members, invitations] = await Promise.all([
    api.GET("/v1/projects", { params: { query: { limit: 1 } } }),
    api.GET("/v1/members", { params: { query: { limit: 2 } } }),
    api.GET("/v1/invitations", { params: { query: { limit: 1 } } }),
  ]);
  const p = readable(projects, signedOut);
  const m = readable(members, signedOut);
  const i = readable(invitations, signedOut);
  return {
    project: p && p.data.length > 0,
    teammate: m && i ? m.data.length > 1 || i.data.length > 0 : null,
  };
}
