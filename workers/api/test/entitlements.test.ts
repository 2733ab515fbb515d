/** GET /v1/entitlements: plan defaults ⊕ per-tenant overrides (with expiry) ⊕ rollout flags. */

import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { addOverride, api, createTenant } from "./helpers";

describe("GET /v1/entitlements", () => {
  it("gives a new tenant the free plan's defaults", async () => {
    const t = await createTenant();
    const res = await api("GET", "/v1/entitlements", { slug: t.slug, token: t.owner.token });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      plan: "free",
      effectivePlan: "free",
      features: { sso: false },
    });
    expect(res.body.limits.seats).toEqual({ value: 3, hard: true });
  });

  it("applies overrides in force and ignores expired ones", async () => {
    const t = await createTenant({ planRateLimits: true });
    await addOverride(t, { type: "limit", key: "projects", value: 50, reason: "design partner" });
    await addOverride(
      t,
      { type: "feature", key: "sso", value: true, reason: "trial of SSO" },
      Date.now() + 60_000,
    );
    await addOverride(
      t,
      { type: "feature", key: "audit_export", value: true, reason: "lapsed deal" },
      Date.now() - 1,
    );
    const res = await api("GET", "/v1/entitlements", { slug: t.slug, token: t.owner.token });
    expect(res.body.limits.projects.value).toBe(50);
    expect(res.body.features.sso).toBe(true);
    expect(res.body.features.audit_export).toBe(false);
    expect(res.body.overrides).toHaveLength(2);
  });

  it("evaluates rollout flags per plan and per tenant, stably", async () => {
    const t = await createTenant();
    await env.CONTROL_DB.batch([
      env.CONTROL_DB.prepare(
        "INSERT OR REPLACE INTO feature_flags (key, definition, updated_at) VALUES (?, ?, ?)",
      ).bind(
        "new_editor",
        JSON.stringify({ key: "new_editor", default: false, plans: { free: true } }),
        Date.now(),
      ),
      env.CONTROL_DB.prepare(
        "INSERT OR REPLACE INTO feature_flags (key, definition, updated_at) VALUES (?, ?, ?)",
      ).bind("beta_reports", JSON.stringify({ key: "beta_reports", default: false }), Date.now()),
    ]);
    await addOverride(t, {
      type: "flag",
      key: "beta_reports",
      value: true,
      reason: "asked for it",
    });
    const first = await api("GET", "/v1/entitlements", { slug: t.slug, token: t.owner.token });
    expect(first.body.flags).toEqual({ beta_reports: true, new_editor: true });
    const again = await api("GET", "/v1/entitlements", { slug: t.slug, token: t.owner.token });
    expect(again.body.flags).toEqual(first.body.flags);
  });
});
