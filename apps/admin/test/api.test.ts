import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { adminApi } from "../server/api";

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
});
