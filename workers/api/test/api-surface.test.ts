import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { MAX_BODY_BYTES } from "../src/app";
import { api, createTenant, expectProblem, lastMail } from "./helpers";

describe("API surface", () => {
  it("GET /healthz answers on the apex and on tenant hosts", async () => {
    const t = await createTenant();
    for (const slug of [undefined, t.slug]) {
      const res = await api("GET", "/healthz", slug ? { slug } : {});
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ status: "ok" });
      expect(res.headers.get("x-request-id")).toMatch(/^req_/);
    }
  });

  it("unknown routes are 404 problems and wrong methods 405 problems with Allow", async () => {
    const t = await createTenant();
    const missing = await api("GET", "/v1/nothing-here", { slug: t.slug, token: t.owner.token });
    expectProblem(missing, 404, "not_found");
    const wrong = await api("PUT", "/v1/api-keys", {
      slug: t.slug,
      token: t.owner.token,
      body: {},
    });
    expectProblem(wrong, 405, "method_not_allowed");
    expect(wrong.headers.get("allow")).toBe("POST, GET");
  });

  it("every response has a distinct x-request-id that problems repeat", async () => {
    const t = await createTenant();
    const ok = await api("GET", "/v1/me", { slug: t.slug, token: t.owner.token });
    const bad = await api("GET", "/v1/me", { slug: t.slug });
    expect(ok.headers.get("x-request-id")).toMatch(/^req_/);
    expect(bad.body.request_id).toBe(bad.headers.get("x-request-id"));
    expect(ok.headers.get("x-request-id")).not.toBe(bad.headers.get("x-request-id"));
  });

  it("bodies over the limit are 413 problems", async () => {
    const t = await createTenant();
    const res = await api("POST", "/v1/api-keys", {
      slug: t.slug,
      token: t.owner.token,
      rawBody: JSON.stringify({ name: "x".repeat(MAX_BODY_BYTES), permissions: [] }),
    });
    expectProblem(res, 413, "payload_too_large");
  });

  it("serves an OpenAPI 3.1 document generated from the route definitions, and a reference page", async () => {
    const doc = await api("GET", "/openapi.json");
    expect(doc.body.openapi).toBe("3.1.0");
    expect(
      doc.body.paths["/v1/api-keys"].post.requestBody.content["application/json"].schema.required,
    ).toEqual(["name", "permissions"]);
    expect(doc.body.components.securitySchemes).toMatchObject({
      bearerJwt: { type: "http", scheme: "bearer", bearerFormat: "JWT" },
      apiKey: { type: "http", scheme: "bearer" },
    });
    const page = await api("GET", "/docs");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(page.body).toContain('data-url="/openapi.json"');
  });

  it("the reference page works offline: only its own script, under a strict CSP", async () => {
    const page = await api<string>("GET", "/docs");
    const csp = page.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toMatch(/https?:|unsafe-eval|script-src[^;]*unsafe-inline/);
    const scripts = [...page.body.matchAll(/<script\b([^>]*)>([^<]*)<\/script>/g)];
    expect(scripts.map(([, attrs]) => attrs?.match(/src="([^"]*)"/)?.[1]).filter(Boolean)).toEqual([
      "/docs/scalar.js",
    ]);
    expect(scripts.every(([, , body]) => body === "")).toBe(true);
    expect(page.body).not.toMatch(/https?:\/\//);

    const script = await api<string>("GET", "/docs/scalar.js");
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(script.headers.get("cache-control")).toBe("public, max-age=86400");
    expect(script.body.length).toBeGreaterThan(1_000_000);
    expect(script.body).toContain("api-reference");
  });

  it("the development outbox lists mail in development and test, and does not exist in production", async () => {
    const t = await createTenant();
    await lastMail(t.owner.email); // mail travels through the queue
    const res = await api("GET", `/_dev/outbox?to=${encodeURIComponent(t.owner.email)}`);
    expect(res.body.data[0].subject).toContain("Welcome");
    const { app } = await import("../src/index");
    const prod = await app.request(
      "http://localhost:8787/_dev/outbox",
      {},
      {
        ...env,
        ENVIRONMENT: "production",
        MAILER: "resend",
        MAIL_FROM: "Tenantry <no-reply@mail.tenantry.test>",
        MAIL_API_TOKEN: "re_test_tenantry",
      },
    );
    expect(prod.status).toBe(404);
    await prod.body?.cancel();
  });
});
