import type { TenantryClient } from "@tenantry/client";
import { apiFailure } from "./api";

/**
 * The first-run checklist's progress, read from the API's state (not from this browser), so it
 * is the same on every device and after signing out. Each step is null when the caller's role
 * may not read what decides it: the checklist then leaves it out (and the API is not asked, so
 * a low role's dashboard spends nothing of the budget for refused calls).
 * Email verification and the plan come from `GET /v1/me`, which the layout loads (the plan as
 * the billing sync recorded it, so the dashboard never waits on Stripe).
 */
export interface OnboardingProgress {
  project: boolean | null;
  teammate: boolean | null;
}

/** A list call's answer: its data, null when not asked (403 too); a 401 or failure is thrown. */
async function readable<T>(
  call: (() => Promise<{ data?: T; error?: unknown; response: Response }>) | false,
  signedOut: () => Response,
) {
  if (!call) return null;
  const r = await call();
  if (r.response.status === 401) throw signedOut();
  if (r.response.status === 403) return null;
  if (!r.data) throw apiFailure(r);
  return r.data;
}

export async function onboardingProgress(
  api: TenantryClient,
  permissions: string[],
  signedOut: () => Response,
): Promise<OnboardingProgress> {
  const may = (p: string) => permissions.includes(p);
  const [p, m, i] = await Promise.all([
    readable(
      may("projects:read") && (() => api.GET("/v1/projects", { params: { query: { limit: 1 } } })),
      signedOut,
    ),
    readable(
      may("members:read") && (() => api.GET("/v1/members", { params: { query: { limit: 2 } } })),
      signedOut,
    ),
    readable(
      may("invitations:read") &&
        (() => api.GET("/v1/invitations", { params: { query: { limit: 1 } } })),
      signedOut,
    ),
  ]);
  return {
    project: p && p.data.length > 0,
    teammate: m && i ? m.data.length > 1 || i.data.length > 0 : null,
  };
}
