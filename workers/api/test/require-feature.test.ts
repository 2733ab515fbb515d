/** A route can require a plan feature; the check is server-side and honours overrides. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { newApp } from "../src/app";
import { requireFeature } from "../src/middleware/entitlements";
import { resolveTenant } from "../src/middleware/tenant";
import { addOverride, createTenant, type TestTenant } from "./helpers";

// A route of the kind a product adds (an SSO settings page, an audit export).
const app = newApp().get("/v1/sso", resolveTenant, requireFeature("sso"), (c) =>
  c.json({ ok: true }),
);

const call = async (t: TestTenant) => {
  const res = await app.request(`http://${t.slug}.localhost:8787/v1/sso`, {}, env);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe("requireFeature", () => {
  it("refuses a tenant whose plan lacks the feature with a problem naming it", async () => {
    const t = await createTenant();
    const res = await call(t);
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: "feature_not_in_plan", feature: "sso", plan: "free" });
  });

  it("lets a tenant with an override through", async () => {
    const t = await createTenant();
    await addOverride(t, { type: "feature", key: "sso", value: true, reason: "SSO pilot" });
    expect(await call(t)).toEqual({ status: 200, body: { ok: true } });
  });
});
