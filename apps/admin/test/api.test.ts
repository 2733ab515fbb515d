import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { adminApi } from "../server/api";
import { adminFetch, operatorWithToken } from "./helpers";

describe("admin API shell", () => {
  it("answers its bare health route and unknown routes with a problem", async () => {
    const ok = await adminApi.request("http://admin.localhost/api/health", {}, env);
    expect(ok.status).toBe(200);
    const missing = await adminApi.request("http://admin.localhost/api/v1/nope", {}, env);
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-type")).toBe("application/problem+json");
    expect((await missing.json()) as { request_id: string }).toMatchObject({
      request_id: expect.stringMatching(/^req_/),
    });
  });

  it("knows an operator by API token and refuses anything else", async () => {
    const op = await operatorWithToken("read_only");
    const me = await adminFetch("/api/v1/me", { token: op.token });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ operator: { id: op.id, role: "read_only" } });
    expect((await adminFetch("/api/v1/me")).status).toBe(401);
    expect((await adminFetch("/api/v1/me", { token: `${op.token}x` })).status).toBe(401);
  });
});

describe("admin OpenAPI document", () => {
  it("documents every route with the operator token scheme", async () => {
    const doc = (await (await adminFetch("/api/openapi.json")).json()) as {
      paths: Record<string, Record<string, { security?: unknown }>>;
    };
    expect(Object.keys(doc.paths)).toContain("/api/v1/me");
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        expect(op.security, `${method} ${path}`).toEqual([{ operatorToken: [] }]);
      }
    }
  });
});
