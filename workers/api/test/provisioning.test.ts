/**
 * Provisioning failure injection: a failure at any step either completes on retry or leaves no
 * tenant visible (no registry row, slug free, database back in the pool, owner identity gone).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  PROVISIONING_STEPS,
  STEP_ATTEMPTS,
  sweepStaleProvisioning,
} from "../src/services/provisioning";
import { signUp } from "../src/services/signup";
import { api, count, expectProblem, PASSWORD, uniqueSlug } from "./helpers";

const ctx = { env, requestId: "test", ip: null };
const input = () => {
  const slug = uniqueSlug("p");
  return { organization_name: "Hooli", slug, email: `gavin@${slug}.example`, password: PASSWORD };
};

async function tenantRow(slug: string) {
  return env.CONTROL_DB.prepare("SELECT * FROM tenants WHERE slug = ?")
    .bind(slug)
    .first<Record<string, unknown>>();
}

describe.each(PROVISIONING_STEPS)("a failure at step %s", (step) => {
  it("that passes completes on retry", async () => {
    const body = input();
    let failures = 0;
    const result = await signUp({
      input: body,
      ctx: {
        ...ctx,
        hooks: {
          beforeStep: (s) => {
            if (s === step && failures < STEP_ATTEMPTS - 1) {
              failures++;
              throw new Error(`injected failure at ${s}`);
            }
          },
        },
      },
    });
    expect(failures).toBe(STEP_ATTEMPTS - 1);
    if (result.status !== "created") throw new Error("expected a new tenant");
    expect(await tenantRow(body.slug)).toMatchObject({ status: "active", plan: "free" });
    expect(
      (await api("GET", "/v1/me", { slug: body.slug, token: result.tokens.access_token })).status,
    ).toBe(200);
  });

  it("that persists leaves no tenant visible and nothing half-created", async () => {
    const body = input();
    const freeBefore = await count(env.CONTROL_DB, "tenant_databases WHERE tenant_id IS NULL");
    const usersBefore = await count(env.CONTROL_DB, "users");
    const err = await signUp({
      input: body,
      ctx: {
        ...ctx,
        hooks: {
          beforeStep: (s) => {
            if (s === step) throw new Error(`injected failure at ${s}`);
          },
        },
      },
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 503, code: "provisioning_failed" });
    expect(await tenantRow(body.slug)).toBeNull();
    expect(await count(env.CONTROL_DB, "users")).toBe(usersBefore);
    // The first sign-up mirrors the pool; compare free databases only once it exists.
    if (freeBefore > 0)
      expect(await count(env.CONTROL_DB, "tenant_databases WHERE tenant_id IS NULL")).toBe(
        freeBefore,
      );
    expect(
      await count(env.CONTROL_DB, "user_tenants WHERE tenant_id NOT IN (SELECT id FROM tenants)"),
    ).toBe(0);
    expectProblem(await api("GET", "/v1/me", { slug: body.slug }), 404);
    expect((await api("GET", `/v1/slugs/${body.slug}`)).body.available).toBe(true);
    // The same sign-up then succeeds, on a clean database.
    expect((await api("POST", "/v1/signup", { body })).status).toBe(201);
  });
});

describe("the sign-up route", () => {
  it("answers a persistent failure with a 503 problem", async () => {
    // Fill the pool so the database step cannot complete.
    await api("POST", "/v1/signup", { body: input() });
    await env.CONTROL_DB.prepare(
      "UPDATE tenant_databases SET tenant_id = 'ten_placeholder_' || binding WHERE tenant_id IS NULL",
    ).run();
    const body = input();
    const res = await api("POST", "/v1/signup", { body });
    expectProblem(res, 503, "tenant_capacity_exhausted");
    expect(res.headers.get("retry-after")).toBeTruthy();
    expect(await tenantRow(body.slug)).toBeNull();
    expect(await count(env.CONTROL_DB, `users WHERE email = '${body.email}'`)).toBe(0);
    // Growing the pool (here: freeing databases) makes sign-up work again.
    await env.CONTROL_DB.prepare(
      "UPDATE tenant_databases SET tenant_id = NULL WHERE tenant_id LIKE 'ten_placeholder_%'",
    ).run();
    expect((await api("POST", "/v1/signup", { body })).status).toBe(201);
  });
});

describe("the scheduled sweep", () => {
  const stale = Date.now() - 10 * 60_000;

  it("resumes a sign-up interrupted after a step (the isolate died), from that step", async () => {
    const body = input();
    await signUp({ ctx, input: body });
    // The state a crash right after the "owner" step leaves behind.
    await env.CONTROL_DB.prepare(
      "UPDATE tenants SET status = 'provisioning', provisioning_step = 'owner', plan = NULL, updated_at = ? WHERE slug = ?",
    )
      .bind(stale, body.slug)
      .run();
    expectProblem(await api("GET", "/v1/me", { slug: body.slug }), 503, "tenant_provisioning");
    expect(await sweepStaleProvisioning(env)).toEqual({ resumed: 1, rolledBack: 0, failed: 0 });
    expect(await tenantRow(body.slug)).toMatchObject({
      status: "active",
      plan: "free",
      provisioning_step: "activate",
    });
  });

  it("rolls back an interrupted sign-up that cannot complete", async () => {
    const body = input();
    await signUp({ ctx, input: body });
    const row = (await tenantRow(body.slug))!;
    // Interrupted before a database was assigned, and the pool is now full.
    await env.CONTROL_DB.batch([
      env.CONTROL_DB.prepare(
        "UPDATE tenants SET status = 'provisioning', provisioning_step = 'registry', database_binding = NULL, updated_at = ? WHERE id = ?",
      ).bind(stale, row.id),
      env.CONTROL_DB.prepare(
        "UPDATE tenant_databases SET tenant_id = 'ten_placeholder_' || binding WHERE tenant_id IS NULL OR tenant_id = ?",
      ).bind(row.id),
    ]);
    expect(await sweepStaleProvisioning(env)).toEqual({ resumed: 0, rolledBack: 1, failed: 0 });
    expect(await tenantRow(body.slug)).toBeNull();
    await env.CONTROL_DB.prepare(
      "UPDATE tenant_databases SET tenant_id = NULL WHERE tenant_id LIKE 'ten_placeholder_%'",
    ).run();
  });

  it("leaves recent sign-ups alone", async () => {
    const body = input();
    await signUp({ ctx, input: body });
    await env.CONTROL_DB.prepare(
      "UPDATE tenants SET status = 'provisioning', provisioning_step = 'owner' WHERE slug = ?",
    )
      .bind(body.slug)
      .run();
    expect(await sweepStaleProvisioning(env)).toEqual({ resumed: 0, rolledBack: 0, failed: 0 });
  });
});
