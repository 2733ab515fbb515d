/**
 * `@tenantry/client` against the worker, through a custom fetch as a service binding would give
 * it: typed paths and bodies in, typed data or a typed RFC 9457 problem out.
 */
import { exports } from "cloudflare:workers";
import { createTenantryClient, problemMessage } from "@tenantry/client";
import { describe, expect, it } from "vitest";
import { BASE, PASSWORD, uniqueSlug } from "./helpers";

/** The worker's own fetch handler stands in for a service binding (`env.API.fetch`). */
const fetch = (request: Request) => exports.default.fetch(request);

/** Signs a tenant up on the apex; returns its tenant host's URL and the owner's credentials. */
async function signUp() {
  const slug = uniqueSlug();
  const email = `owner@${slug}.example`;
  const apex = createTenantryClient({ baseUrl: `http://${BASE}`, fetch });
  const { data, error, response } = await apex.POST("/v1/signup", {
    body: { organization_name: `Org ${slug}`, slug, email, password: PASSWORD },
  });
  expect(response.status, JSON.stringify(error)).toBe(201);
  // 201 and 202 have different bodies: the client types both.
  if (!data || !("access_token" in data)) throw new Error("no tenant created");
  return { slug, email, url: data.tenant.url, token: data.access_token };
}

describe("@tenantry/client", () => {
  it("signs up on the apex, signs in on the tenant's host and calls member routes, typed", async () => {
    const tenant = await signUp();
    expect(tenant.url).toBe(`http://${tenant.slug}.${BASE}`);

    const anonymous = createTenantryClient({ baseUrl: tenant.url, fetch });
    const login = await anonymous.POST("/v1/auth/login", {
      body: { email: tenant.email, password: PASSWORD },
    });
    expect(login.response.status).toBe(200);
    // A member without MFA gets tokens straight away (with MFA: a challenge, see mfa.test.ts).
    if (!login.data || !("access_token" in login.data)) throw new Error("expected tokens");
    const token = login.data.access_token;

    const client = createTenantryClient({ baseUrl: tenant.url, fetch, token });
    const me = await client.GET("/v1/me");
    expect(me.data).toMatchObject({ tenant: { slug: tenant.slug }, user: { email: tenant.email } });
    const members = await client.GET("/v1/members", { params: { query: { limit: 10 } } });
    expect(members.data!.data.map((m) => m.email)).toEqual([tenant.email]);
  });

  it("asks a token getter for the credential on every request", async () => {
    const tenant = await signUp();
    let current: string | undefined;
    const client = createTenantryClient({ baseUrl: tenant.url, fetch, token: () => current });
    expect((await client.GET("/v1/me")).response.status).toBe(401);
    current = tenant.token;
    expect((await client.GET("/v1/me")).response.status).toBe(200);
  });

  it("a request's own authorization header wins over the client's token", async () => {
    const tenant = await signUp();
    const client = createTenantryClient({ baseUrl: tenant.url, fetch, token: "not-a-token" });
    const me = await client.GET("/v1/me", {
      headers: { authorization: `Bearer ${tenant.token}` },
    });
    expect(me.response.status).toBe(200);
  });

  it("a 401 is the error branch: a typed problem with its request id, and a readable message", async () => {
    const tenant = await signUp();
    const client = createTenantryClient({ baseUrl: tenant.url, fetch, token: "not-a-token" });
    const { data, error, response } = await client.GET("/v1/members");
    expect(data).toBeUndefined();
    expect(response.status).toBe(401);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    // Typed as Problem: no cast needed to read the request id.
    expect(error!.request_id).toBe(response.headers.get("x-request-id"));
    expect(error).toMatchObject({ status: 401, type: expect.stringContaining("/problems/") });
    expect(problemMessage({ error, response })).toBe(
      `${error!.title}: ${error!.detail} (request ${error!.request_id})`,
    );
  });

  it("an answer that is not a problem still names its status and request id", () => {
    const response = new Response("bad gateway", {
      status: 502,
      statusText: "Bad Gateway",
      headers: { "x-request-id": "req_upstream" },
    });
    expect(problemMessage({ error: "bad gateway", response })).toBe(
      "HTTP 502 Bad Gateway (request req_upstream)",
    );
  });

  it("a path the API does not have is a type error (and a 404 problem if forced)", async () => {
    const client = createTenantryClient({ baseUrl: `http://${BASE}`, fetch });
    // A renamed or removed route breaks `npm run typecheck` wherever the client calls it.
    // @ts-expect-error "/v1/nope" is not a path of the API's document
    const { error, response } = await client.GET("/v1/nope");
    expect(response.status).toBe(404);
    expect(problemMessage({ error, response })).toContain(
      `(request ${response.headers.get("x-request-id")})`,
    );
  });
});
