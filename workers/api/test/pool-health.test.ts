/** The pool's free count for operators: GET /healthz/detail and the low-water warning. */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { app } from "../src/index";
import { reclaimUnverifiedTenants } from "../src/services/reclaim";
import { api, BASE, count, createTenant, expectProblem, PASSWORD, uniqueSlug } from "./helpers";

const TEST_POOL_SIZE = 400;
const TOKEN = "health-token-for-tests-0123456789";
/** Production needs a real mailer configured, or every request is a configuration error. */
const PRODUCTION = {
  ENVIRONMENT: "production",
  MAILER: "resend",
  MAIL_FROM: "Tenantry <no-reply@mail.tenantry.test>",
  MAIL_API_TOKEN: "re_test_tenantry",
};

async function call(path: string, overrides: Record<string, unknown>, init: RequestInit = {}) {
  const ctx = createExecutionContext();
  const res = await app.request(`http://${BASE}${path}`, init, { ...env, ...overrides }, ctx);
  const text = await res.text();
  await waitOnExecutionContext(ctx);
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

const poolWarnings = (spy: { mock: { calls: unknown[][] } }) =>
  spy.mock.calls
    .map(([line]) => JSON.parse(String(line)))
    .filter((l) => l.msg?.startsWith("tenant database pool is low"));

afterEach(() => {
  vi.restoreAllMocks();
});

describe("GET /healthz/detail", () => {
  it("reports the pool's size, assigned and free databases and the low-water mark", async () => {
    await createTenant();
    await createTenant();
    const assigned = await count(env.CONTROL_DB, "tenant_databases WHERE tenant_id IS NOT NULL");
    expect(assigned).toBeGreaterThanOrEqual(2);
    const res = await api("GET", "/healthz/detail");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      status: "ok",
      pool: {
        size: TEST_POOL_SIZE,
        assigned,
        free: TEST_POOL_SIZE - assigned,
        // 10% of the pool by default.
        low_water: TEST_POOL_SIZE / 10,
        low: false,
      },
    });
    // The bare liveness route still answers without any of it.
    expect((await api("GET", "/healthz")).body).toEqual({ status: "ok" });
  });

  it("is degraded at or below POOL_LOW_WATER", async () => {
    const res = await call("/healthz/detail", { POOL_LOW_WATER: String(TEST_POOL_SIZE) });
    expect(res.body).toMatchObject({
      status: "degraded",
      pool: { low_water: TEST_POOL_SIZE, low: true },
    });
  });

  it("needs Authorization: Bearer HEALTH_TOKEN when it is set, and is closed in production without it", async () => {
    const withToken = { HEALTH_TOKEN: TOKEN };
    expectProblem(await call("/healthz/detail", withToken), 401, "unauthorized");
    expectProblem(
      await call("/healthz/detail", withToken, { headers: { authorization: "Bearer wrong" } }),
      401,
      "unauthorized",
    );
    const ok = await call("/healthz/detail", withToken, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(ok.status).toBe(200);
    expect(ok.body.pool.size).toBe(TEST_POOL_SIZE);
    expectProblem(
      await call("/healthz/detail", PRODUCTION, {
        headers: { authorization: "Bearer anything" },
      }),
      401,
      "unauthorized",
    );
    const prod = await call(
      "/healthz/detail",
      { ...PRODUCTION, ...withToken },
      { headers: { authorization: `Bearer ${TOKEN}` } },
    );
    expect(prod.status).toBe(200);
  });
});

describe("the low-water warning", () => {
  it("is logged after a database claim and by the scheduled job when free ≤ low-water, not above", async () => {
    const low = { POOL_LOW_WATER: String(TEST_POOL_SIZE) };
    const spy = vi.spyOn(console, "warn");
    const slug = uniqueSlug("w");
    const signup = await call("/v1/signup", low, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        organization_name: "Low",
        slug,
        email: `owner@${slug}.example`,
        password: PASSWORD,
      }),
    });
    expect(signup.status).toBe(201);
    const [warning] = poolWarnings(spy);
    const assigned = await count(env.CONTROL_DB, "tenant_databases WHERE tenant_id IS NOT NULL");
    expect(warning).toEqual({
      level: "warn",
      msg: expect.stringContaining("npm run pool:grow"),
      size: TEST_POOL_SIZE,
      assigned,
      free: TEST_POOL_SIZE - assigned,
      low_water: TEST_POOL_SIZE,
      low: true,
    });
    await reclaimUnverifiedTenants({ ...env, ...low });
    expect(poolWarnings(spy)).toHaveLength(2);
    // Above the mark: silent.
    await createTenant();
    await reclaimUnverifiedTenants(env);
    expect(poolWarnings(spy)).toHaveLength(2);
  });
});
