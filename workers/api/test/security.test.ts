/**
 * The shared security suite. Every authenticated tenant route is listed in ROUTES and gets the
 * same checks: no credential → 401, bad or tampered credential → 401, a credential lacking the
 * permission → 403, another tenant's credential → 401, another tenant's resource id → 404,
 * suspended tenant → 403; an operator's read-only support token is refused on another tenant's
 * host (401) and on every write (403 support_read_only). The last test fails when a route in the OpenAPI document is in no list
 * here, so a new route cannot skip the suite.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { PERMISSIONS, type Permission, ROLE_PERMISSIONS, ROLES } from "../src/rbac/permissions";
import { addMember, api, createApiKey, expectProblem, readOnlySupport, setStatus } from "./helpers";
import {
  APEX_ROUTES,
  createFixture,
  type Fixture,
  fill,
  normalise,
  PUBLIC_TENANT_ROUTES,
  ROUTES,
  SYSTEM_ROUTES,
} from "./routes";

let a: Fixture;
let b: Fixture;
let suspended: Fixture;
/** An API key of tenant A per permission, holding every permission except that one. */
const keysLacking = new Map<Permission, string>();
/** A signed-in member of A for every built-in role. */
const roleTokens = new Map<string, string>();
/** Read-only support tokens of A and B (15 minutes: longer than this file runs). */
let supportA: string;
let supportB: string;

beforeAll(async () => {
  [a, b, suspended] = [await createFixture(), await createFixture(), await createFixture()];
  for (const p of PERMISSIONS) {
    keysLacking.set(
      p,
      (
        await createApiKey(
          a,
          PERMISSIONS.filter((q) => q !== p),
        )
      ).key,
    );
  }
  for (const role of ROLES) roleTokens.set(role, (await addMember(a, role)).tokens.access_token);
  await setStatus(suspended, "suspended");
  supportA = (await readOnlySupport(a)).token;
  supportB = (await readOnlySupport(b)).token;
});

describe.each(ROUTES)("$method $path", (route) => {
  const call = (t: Fixture, token: string | undefined, ids = t.ids) =>
    api(route.method, fill(route.path, ids), {
      slug: t.slug,
      ...(token ? { token } : {}),
      body: route.body?.(),
    });

  it("no credential → 401 with WWW-Authenticate", async () => {
    const res = await call(a, undefined);
    expectProblem(res, 401, "unauthorized");
    expect(res.headers.get("www-authenticate")).toContain("Bearer");
  });

  it("bad or tampered credential → 401", async () => {
    const [header, payload, signature] = a.owner.token.split(".");
    const tampered = `${header}.${payload!.slice(0, -2)}${payload!.endsWith("A") ? "B" : "A"}${payload!.slice(-1)}.${signature}`;
    for (const token of [
      "garbage",
      tampered,
      `${a.owner.token.slice(0, -4)}AAAA`,
      `${supportA.slice(0, -4)}AAAA`,
      "tnry_unknownkey",
    ]) {
      expectProblem(await call(a, token), 401, "unauthorized");
    }
  });

  it("a credential of another tenant → 401", async () => {
    expectProblem(await call(a, b.owner.token), 401, "unauthorized");
    expectProblem(await call(a, supportB), 401, "unauthorized");
  });

  if (route.method !== "GET") {
    it("read-only support access → 403 support_read_only", async () => {
      expectProblem(await call(a, supportA), 403, "support_read_only");
    });
  }

  // Only routes gated by a permission, and routes that take an id, get these two checks.
  const permission = route.permission;
  if (permission) {
    it("a credential without the permission → 403", async () => {
      expectProblem(await call(a, keysLacking.get(permission)), 403, "forbidden");
      for (const role of ROLES.filter((r) => !ROLE_PERMISSIONS[r].has(permission))) {
        expectProblem(await call(a, roleTokens.get(role)), 403, "forbidden");
      }
    });
  }

  if (route.path.includes("{")) {
    it("another tenant's resource id → 404", async () => {
      expectProblem(await call(a, a.owner.token, b.ids), 404, "not_found");
      // B's resources are untouched.
      const bMembers = await api("GET", "/v1/members", { slug: b.slug, token: b.owner.token });
      expect(bMembers.body.data.map((m: { id: string }) => m.id)).toContain(b.ids.member);
      const bKeys = await api("GET", "/v1/api-keys", { slug: b.slug, token: b.owner.token });
      expect(bKeys.body.data.map((k: { id: string }) => k.id)).toContain(b.ids.apiKey);
    });
  }

  it("suspended tenant → 403 tenant_suspended, even with its own valid credential", async () => {
    expectProblem(await call(suspended, suspended.owner.token), 403, "tenant_suspended");
  });
});

describe.each(PUBLIC_TENANT_ROUTES)("public tenant route $method $path", (route) => {
  it("unknown tenant → 404, suspended tenant → 403", async () => {
    expectProblem(
      await api(route.method, route.path, { slug: "no-such-tenant", body: route.body }),
      404,
      "not_found",
    );
    expectProblem(
      await api(route.method, route.path, { slug: suspended.slug, body: route.body }),
      403,
      "tenant_suspended",
    );
  });
});

describe.each(APEX_ROUTES)("apex route $method $path", (route) => {
  it("is not served on a tenant host", async () => {
    const res = await api(route.method, route.path.replace("{slug}", "abc"), {
      slug: a.slug,
      body: route.body,
    });
    expectProblem(res, 404, "not_found");
  });
});

it("every route in the OpenAPI document is covered by this suite", async () => {
  const doc = await api("GET", "/openapi.json");
  const documented = Object.entries(
    doc.body.paths as Record<string, Record<string, unknown>>,
  ).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
  const covered = new Set(
    [...ROUTES, ...PUBLIC_TENANT_ROUTES, ...APEX_ROUTES, ...SYSTEM_ROUTES].map(
      (r) => `${r.method} ${normalise(r.path)}`,
    ),
  );
  const missing = documented.filter((r) => {
    const [m, p] = r.split(" ");
    return !covered.has(`${m} ${normalise(p!)}`);
  });
  expect(missing).toEqual([]);
  expect(documented.length).toBe(covered.size);
});
