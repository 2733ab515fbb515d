import { describe, expect, it } from "vitest";
import { api } from "./helpers";

type Operation = {
  operationId?: string;
  summary?: string;
  security?: Record<string, string[]>[];
  responses: Record<string, { content?: Record<string, unknown> }>;
};

/** Liveness and the published audit keys answer 200 or not at all: no error to document. */
const NO_ERROR_RESPONSES = new Set(["getHealth", "auditKeys"]);

describe("OpenAPI document", () => {
  it("every operation has a unique operationId, a summary, its security and its error responses", async () => {
    const doc = await api("GET", "/openapi.json");
    const schemes = Object.keys(doc.body.components.securitySchemes);
    const operations = Object.entries(doc.body.paths).flatMap(([path, methods]) =>
      Object.entries(methods as Record<string, Operation>).map(([method, op]) => ({
        at: `${method.toUpperCase()} ${path}`,
        op,
      })),
    );
    expect(operations.length).toBeGreaterThan(30);

    const problems: string[] = [];
    const ids = new Map<string, string>();
    for (const { at, op } of operations) {
      const id = op.operationId;
      if (!id || !/^[a-z][a-zA-Z]+$/.test(id)) problems.push(`${at}: operationId ${id}`);
      else if (ids.has(id)) problems.push(`${at}: operationId ${id} also on ${ids.get(id)}`);
      else ids.set(id, at);
      if (!op.summary?.trim()) problems.push(`${at}: no summary`);
      // Public operations say so (security: []); the others name known schemes and answer 401.
      if (!Array.isArray(op.security)) problems.push(`${at}: no security`);
      const required = (op.security ?? []).flatMap((requirement) => Object.keys(requirement));
      for (const scheme of required) {
        if (!schemes.includes(scheme)) problems.push(`${at}: unknown scheme ${scheme}`);
      }
      if (required.length > 0 && !op.responses["401"]) problems.push(`${at}: no 401`);
      const errors = Object.entries(op.responses).filter(([status]) => Number(status) >= 400);
      if (errors.length === 0 && !NO_ERROR_RESPONSES.has(id ?? "")) {
        problems.push(`${at}: no error responses`);
      }
      for (const [status, response] of errors) {
        if (!response.content?.["application/problem+json"]) {
          problems.push(`${at}: ${status} is not a problem document`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it("credentialed operations accept a member's JWT, and an API key unless they need a session", async () => {
    const doc = await api("GET", "/openapi.json");
    const security = (path: string, method: string) => doc.body.paths[path][method].security;
    expect(security("/v1/members", "get")).toEqual([{ bearerJwt: [] }, { apiKey: [] }]);
    expect(security("/v1/auth/logout", "post")).toEqual([{ bearerJwt: [] }]);
    expect(security("/v1/api-keys", "post")).toEqual([{ bearerJwt: [] }]);
    expect(security("/v1/auth/login", "post")).toEqual([]);
  });
});
