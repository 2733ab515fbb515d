import { env } from "cloudflare:workers";
import { TENANT_MIGRATIONS } from "@tenantry/core";
import { describe, expect, it } from "vitest";
import { RESERVED_SLUGS } from "../src/services/signup";
import {
  api,
  count,
  createTenant,
  expectProblem,
  lastMail,
  PASSWORD,
  setStatus,
  tokenFromMail,
  uniqueSlug,
} from "./helpers";

const signup = (body: Record<string, unknown>) => api("POST", "/v1/signup", { body });
const valid = () => {
  const slug = uniqueSlug("s");
  return { organization_name: "Initech", slug, email: `boss@${slug}.example`, password: PASSWORD };
};

describe("POST /v1/signup", () => {
  it("creates an active tenant on its own database, its owner, a session and a welcome mail", async () => {
    const input = valid();
    const res = await signup(input);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      tenant: {
        id: expect.stringMatching(/^ten_/),
        slug: input.slug,
        url: `http://${input.slug}.localhost:8787`,
      },
      user: { id: expect.stringMatching(/^usr_/), email: input.email },
      access_token: expect.any(String),
      refresh_token: expect.any(String),
    });
    const row = await env.CONTROL_DB.prepare("SELECT * FROM tenants WHERE slug = ?")
      .bind(input.slug)
      .first<Record<string, unknown>>();
    expect(row).toMatchObject({
      status: "active",
      plan: "free",
      provisioning_step: "activate",
      schema_version: TENANT_MIGRATIONS.length,
    });
    expect(row!.database_binding).toMatch(/^TENANT_DB_\d{4}$/);
    const pool = await env.CONTROL_DB.prepare(
      "SELECT tenant_id FROM tenant_databases WHERE binding = ?",
    )
      .bind(row!.database_binding)
      .first();
    expect(pool).toEqual({ tenant_id: row!.id });
    expect((await lastMail(input.email))!.text).toContain("/verify-email?token=");
    const me = await api("GET", "/v1/me", { slug: input.slug, token: res.body.access_token });
    expect(me.body).toMatchObject({ role: "owner", tenant: { slug: input.slug, plan: "free" } });
  });

  it("gives every tenant its own database", async () => {
    const a = await createTenant();
    const b = await createTenant();
    expect(a.tenant.databaseBinding).not.toBe(b.tenant.databaseBinding);
  });

  it("a taken slug → 409 slug_taken; a reserved one → 409 slug_reserved", async () => {
    const t = await createTenant();
    expectProblem(await signup({ ...valid(), slug: t.slug }), 409, "slug_taken");
    for (const slug of ["admin", "api", "www", "app", "billing", "docs", "status", "mail"]) {
      expect(RESERVED_SLUGS.has(slug)).toBe(true);
      expectProblem(await signup({ ...valid(), slug }), 409, "slug_reserved");
    }
  });

  it("malformed slugs → 400", async () => {
    for (const slug of ["ab", "a".repeat(41), "-abc", "abc-", "Abc", "ab_c", "ab.c", "ab c"]) {
      expectProblem(await signup({ ...valid(), slug }), 400, "invalid_request");
    }
  });

  it("an existing email tests no password: the account gets a link that creates the organisation", async () => {
    const t = await createTenant();
    const wrong = { ...valid(), email: t.owner.email, password: "not the password" };
    const right = { ...valid(), email: t.owner.email.toUpperCase() };
    const [a, b] = [await signup(wrong), await signup(right)];
    // The same answer whatever the password: nothing to guess against.
    expect([a.status, b.status]).toEqual([202, 202]);
    expect(a.body).toEqual({ status: "confirmation_sent" });
    expect(b.body).toEqual(a.body);
    expect(await count(env.CONTROL_DB, "tenants")).toBeGreaterThan(0);
    const rows = await env.CONTROL_DB.prepare("SELECT slug FROM tenants WHERE slug IN (?, ?)")
      .bind(wrong.slug, right.slug)
      .all();
    expect(rows.results).toEqual([]);

    const mail = await lastMail(t.owner.email, "Confirm your new organisation");
    expect(mail!.text).toContain("http://localhost:8787/signup/confirm?token=");
    const token = tokenFromMail(mail!.text);
    const confirmed = await api("POST", "/v1/signup/confirm", { body: { token } });
    expect(confirmed.status, JSON.stringify(confirmed.body)).toBe(201);
    expect(confirmed.body.user.id).toBe(t.owner.id);
    // Single use: the organisation exists now.
    expectProblem(await api("POST", "/v1/signup/confirm", { body: { token } }), 409, "slug_taken");
    expectProblem(
      await api("POST", "/v1/signup/confirm", { body: { token: `${token.slice(0, -4)}AAAA` } }),
      400,
    );
  });

  it("bad input → 400 problem with the offending fields, and nothing is written", async () => {
    const before = await count(env.CONTROL_DB, "tenants");
    const cases: unknown[] = [
      {},
      { ...valid(), slug: 42 },
      { ...valid(), password: "short" },
      { ...valid(), email: "not-an-email" },
      { ...valid(), organization_name: "x".repeat(10_000) },
      { ...valid(), password: "p".repeat(100_000) },
      { ...valid(), plan: "enterprise" },
      [],
      "a string",
    ];
    for (const body of cases) {
      const res = await signup(body as Record<string, unknown>);
      expect([400, 413]).toContain(res.status);
      expectProblem(res, res.status);
    }
    const missing = await signup({ slug: uniqueSlug() });
    expect(missing.body.errors.map((e: { path: string }) => e.path)).toEqual(
      expect.arrayContaining(["body.organization_name", "body.email", "body.password"]),
    );
    const unknown = await signup({ ...valid(), plan: "enterprise" });
    expect(JSON.stringify(unknown.body.errors)).toContain("plan");
    expectProblem(
      await api("POST", "/v1/signup", { rawBody: "{not json" }),
      400,
      "invalid_request",
    );
    expect(await count(env.CONTROL_DB, "tenants")).toBe(before);
  });

  it("is served on the apex only", async () => {
    const t = await createTenant();
    expectProblem(await api("POST", "/v1/signup", { slug: t.slug, body: valid() }), 404);
  });
});

describe("GET /v1/slugs/{slug}", () => {
  it("tells availability and why not", async () => {
    const t = await createTenant();
    expect((await api("GET", `/v1/slugs/${uniqueSlug()}`)).body).toMatchObject({ available: true });
    expect((await api("GET", `/v1/slugs/${t.slug}`)).body).toEqual({
      slug: t.slug,
      available: false,
      reason: "taken",
    });
    expect((await api("GET", "/v1/slugs/admin")).body).toEqual({
      slug: "admin",
      available: false,
      reason: "reserved",
    });
    expect((await api("GET", "/v1/slugs/-bad")).body).toEqual({
      slug: "-bad",
      available: false,
      reason: "invalid",
    });
  });
});

describe("tenant resolution", () => {
  it("unknown → 404, suspended → 403 tenant_suspended, provisioning → 503 with Retry-After", async () => {
    const t = await createTenant();
    expectProblem(
      await api("GET", "/v1/me", { slug: "nobody-here", token: t.owner.token }),
      404,
      "not_found",
    );
    await setStatus(t, "suspended");
    expectProblem(
      await api("GET", "/v1/me", { slug: t.slug, token: t.owner.token }),
      403,
      "tenant_suspended",
    );
    await setStatus(t, "provisioning");
    const res = await api("GET", "/v1/me", { slug: t.slug, token: t.owner.token });
    expectProblem(res, 503, "tenant_provisioning");
    expect(res.headers.get("retry-after")).toBe("5");
    await setStatus(t, "active");
    expect((await api("GET", "/v1/me", { slug: t.slug, token: t.owner.token })).status).toBe(200);
  });

  it("a host outside BASE_DOMAIN is unknown", async () => {
    const t = await createTenant();
    const { exports } = await import("cloudflare:workers");
    const res = await exports.default.fetch(`http://${t.slug}.evil.example/v1/me`, {
      headers: { authorization: `Bearer ${t.owner.token}` },
    });
    expect(res.status).toBe(404);
    await res.body?.cancel();
  });
});
