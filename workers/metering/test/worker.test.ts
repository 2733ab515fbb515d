/** The metering worker's HTTP face: the shared worker shell (request ids, problems). */
import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Env } from "../src/env";
import worker from "../src/index";

const fetchWorker = (path: string) =>
  worker.fetch(
    new Request(`http://localhost${path}`),
    env as unknown as Env,
    createExecutionContext(),
  );

describe("the metering worker's routes", () => {
  it("/healthz answers with a request id", async () => {
    const res = await fetchWorker("/healthz");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
    expect(res.headers.get("x-request-id")).toMatch(/^req_/);
  });

  it("any other path is a 404 problem carrying the request id", async () => {
    const res = await fetchWorker("/nope");
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(await res.json()).toEqual({
      type: "https://tenantry.dev/problems/not_found",
      title: "Not found",
      status: 404,
      detail: "No such route.",
      instance: "/nope",
      code: "not_found",
      request_id: res.headers.get("x-request-id"),
    });
  });
});
