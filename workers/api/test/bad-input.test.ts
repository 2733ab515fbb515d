/**
 * Bad input on every body: for each route in the OpenAPI document that takes a JSON body, wrong
 * types, missing required fields, huge strings, unknown fields and non-object bodies all get a
 * 400 (or 413 past the body limit) problem, and nothing is written (no audit entry, no tenant).
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { api, count, expectProblem, tenantD1 } from "./helpers";
import {
  APEX_ROUTES,
  createFixture,
  type Fixture,
  fill,
  normalise,
  PUBLIC_TENANT_ROUTES,
  ROUTES,
} from "./routes";

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
}

let a: Fixture;
let doc: {
  paths: Record<
    string,
    Record<string, { requestBody?: { content: Record<string, { schema: JsonSchema }> } }>
  >;
};

beforeAll(async () => {
  a = await createFixture();
  doc = (await api("GET", "/openapi.json")).body;
});

const listed = () => [
  ...ROUTES.map((r) => ({ ...r, body: r.body?.() })),
  ...PUBLIC_TENANT_ROUTES,
  ...APEX_ROUTES,
];

/** The shared route list's entry (its path names the resource ids, and it has a valid body). */
function listedRoute(method: string, path: string) {
  const route = listed().find((r) => r.method === method && normalise(r.path) === normalise(path));
  if (!route?.body) throw new Error(`no valid body listed for ${method} ${path} in test/routes.ts`);
  return { path: route.path, body: route.body as Record<string, unknown> };
}

function wrongValue(schema: JsonSchema): unknown {
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  if (type === "string") return 12345;
  if (type === "array") return "not-an-array";
  if (type === "number" || type === "integer") return "not-a-number";
  if (type === "boolean") return "yes";
  return 12345;
}

const bodyRoutes = () =>
  Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops)
      // JSON bodies only: the logo upload's body is an image (test/settings.test.ts).
      .filter(([, op]) => op.requestBody?.content["application/json"])
      .map(([method, op]) => ({
        method: method.toUpperCase(),
        path,
        schema: op.requestBody!.content["application/json"]!.schema,
      })),
  );

async function writes() {
  return {
    audit: await count(tenantD1(a), "audit_log"),
    tenants: await count(env.CONTROL_DB, "tenants"),
  };
}

describe("bad input on every JSON body", () => {
  it("covers every route that takes a body", () => {
    expect(bodyRoutes().length).toBe(listed().filter((r) => r.body).length);
  });

  it("wrong types, missing fields, huge strings, unknown fields → 400/413 problem, nothing written", async () => {
    const before = await writes();
    for (const { method, path, schema } of bodyRoutes()) {
      const isApex = APEX_ROUTES.some((r) => normalise(r.path) === normalise(path));
      const { path: listedPath, body: valid } = listedRoute(method, path);
      const call = (body: unknown, rawBody?: string) =>
        api(method, fill(listedPath, a.ids), {
          ...(isApex ? {} : { slug: a.slug }),
          token: a.owner.token,
          ...(rawBody !== undefined ? { rawBody } : { body }),
        });
      const label = `${method} ${path}`;
      const cases: [string, unknown][] = [
        ["unknown field", { ...valid, not_a_field: true }],
        ["array body", []],
        ["string body", "just a string"],
        ["null body", null],
      ];
      for (const [name, prop] of Object.entries(schema.properties ?? {})) {
        cases.push([`${name} of the wrong type`, { ...valid, [name]: wrongValue(prop) }]);
        const type = Array.isArray(prop.type) ? prop.type[0] : prop.type;
        if (type === "string")
          cases.push([`${name} huge`, { ...valid, [name]: "x".repeat(70_000) }]);
        if (type === "string")
          cases.push([`${name} long`, { ...valid, [name]: "x".repeat(5_001) }]);
      }
      for (const name of schema.required ?? []) {
        const { [name]: _dropped, ...rest } = valid;
        cases.push([`${name} missing`, rest]);
      }
      for (const [name, body] of cases) {
        const res = await call(body);
        expect(
          [400, 413],
          `${label}: ${name} → ${res.status} ${JSON.stringify(res.body)}`,
        ).toContain(res.status);
        expectProblem(res, res.status);
      }
      const broken = await call(undefined, "{ not json");
      expect(broken.status, `${label}: malformed JSON`).toBe(400);
      expectProblem(broken, 400, "invalid_request");
    }
    expect(await writes()).toEqual(before);
  });
});
