import { OPERATOR_ROLES } from "@tenantry/schema/control";
import { beforeAll, describe, expect, it } from "vitest";
import {
  api,
  createApiKey,
  createTenant,
  type TestTenant,
} from "../../../workers/api/test/helpers";
import { adminApi } from "../server/api";
import { can, type OperatorPermission } from "../server/roles";
import { adminFetch, auditRowsOf, operatorWithPassword, operatorWithToken } from "./helpers";

type Admin = Awaited<ReturnType<typeof operatorWithToken>>;

interface RouteFixture {
  /** The permission the route requires: the suite tries it with a role that lacks it. */
  permission: OperatorPermission;
  /**
   * A request a platform admin makes successfully (targets created here). The credential checks
   * send it too; for a mutation, its success must write exactly one operator audit entry.
   */
  request: (admin: Admin) => Promise<{ path: string; body?: unknown }>;
}

const reason = "security suite";

/**
 * Every admin API route, keyed `METHOD /api/path` as Hono registered it. A route added without
 * an entry here fails the suite: add one when you add a route.
 */
const FIXTURES: Record<string, RouteFixture> = {
  "GET /api/v1/me": { permission: "tenants:read", request: async () => ({ path: "/api/v1/me" }) },
  "GET /api/v1/tokens": {
    permission: "tokens:own",
    request: async () => ({ path: "/api/v1/tokens" }),
  },
  "POST /api/v1/tokens": {
    permission: "tokens:own",
    request: async () => ({
      path: "/api/v1/tokens",
      body: { name: "suite", expires_in_days: 1, reason },
    }),
  },
  "POST /api/v1/tokens/:id/revoke": {
    permission: "tokens:own",
    request: async (admin) => {
      const res = await adminFetch("/api/v1/tokens", {
        method: "POST",
        token: admin.token,
        body: JSON.stringify({ name: "to revoke", expires_in_days: 1, reason }),
      });
      const { id } = (await res.json()) as { id: string };
      return { path: `/api/v1/tokens/${id}/revoke`, body: { reason } };
    },
  },
  "GET /api/v1/operators": {
    permission: "operators:manage",
    request: async () => ({ path: "/api/v1/operators" }),
  },
  "POST /api/v1/operators": {
    permission: "operators:manage",
    request: async () => ({
      path: "/api/v1/operators",
      body: {
        email: `${crypto.randomUUID()}@ops.example`,
        name: "Suite",
        role: "read_only",
        reason,
      },
    }),
  },
  "PATCH /api/v1/operators/:id": {
    permission: "operators:manage",
    request: async () => {
      const op = await operatorWithPassword("support");
      return { path: `/api/v1/operators/${op.id}`, body: { role: "read_only", reason } };
    },
  },
  "POST /api/v1/operators/:id/reset-totp": {
    permission: "operators:manage",
    request: async () => {
      const op = await operatorWithPassword("support");
      return { path: `/api/v1/operators/${op.id}/reset-totp`, body: { reason } };
    },
  },
};

/** The routes registered on the admin API (middleware entries and the bare health route aside). */
const ROUTES = [
  ...new Set(
    adminApi.routes
      .filter((r) => r.method !== "ALL" && r.path.startsWith("/api/v1/"))
      .map((r) => `${r.method} ${r.path}`),
  ),
];

describe("admin API security suite", () => {
  let tenant: TestTenant;
  let tenantKey: string;
  let expired: Admin;

  beforeAll(async () => {
    tenant = await createTenant();
    tenantKey = (await createApiKey(tenant, ["members:read"])).key;
    expired = await operatorWithToken("platform_admin", -1);
  });

  it("has a fixture for every registered route", () => {
    expect(ROUTES.length).toBeGreaterThan(0);
    for (const route of ROUTES) expect(FIXTURES, `fixture for ${route}`).toHaveProperty([route]);
  });

  it("operator credentials get nothing on a tenant host", async () => {
    const admin = await operatorWithToken("platform_admin");
    const res = await api("GET", "/v1/members", { slug: tenant.slug, token: admin.token });
    expect(res.status).toBe(401);
  });

  describe.each(ROUTES)("%s", (route) => {
    const [method = "GET"] = route.split(" ");
    const fixture = FIXTURES[route];
    const send = async (path: string, body: unknown, token?: string) => {
      const res = await adminFetch(path, {
        method,
        token,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { res, body: (await res.json()) as Record<string, unknown> };
    };

    it("refuses no credential, a tenant's token and API key, and an expired operator token", async () => {
      if (!fixture) throw new Error(`no fixture for ${route}`);
      const admin = await operatorWithToken("platform_admin");
      const req = await fixture.request(admin);
      for (const token of [undefined, tenant.owner.token, tenantKey, expired.token]) {
        const { res, body } = await send(req.path, req.body, token);
        expect(res.status, `${route} with ${token?.slice(0, 6) ?? "nothing"}`).toBe(401);
        expect(res.headers.get("www-authenticate")).toContain("Bearer");
        expect(body).toMatchObject({ code: "unauthorized" });
        expect(await auditRowsOf(res.headers.get("x-request-id"))).toEqual([]);
      }
    });

    it("refuses every role without the permission with 403", async () => {
      if (!fixture) throw new Error(`no fixture for ${route}`);
      const denied = OPERATOR_ROLES.filter((role) => !can(role, fixture.permission));
      const admin = await operatorWithToken("platform_admin");
      const req = await fixture.request(admin);
      for (const role of denied) {
        const op = await operatorWithToken(role);
        const { res, body } = await send(req.path, req.body, op.token);
        expect(res.status, `${route} as ${role}`).toBe(403);
        expect(body).toMatchObject({ code: "forbidden", permission: fixture.permission });
      }
    });

    it(
      method === "GET" ? "writes no audit entry" : "writes exactly one operator audit entry",
      async () => {
        if (!fixture) throw new Error(`no fixture for ${route}`);
        const admin = await operatorWithToken("platform_admin");
        const req = await fixture.request(admin);
        const { res, body } = await send(req.path, req.body, admin.token);
        expect(res.status, JSON.stringify(body)).toBeLessThan(300);
        const rows = await auditRowsOf(res.headers.get("x-request-id"));
        expect(rows).toHaveLength(method === "GET" ? 0 : 1);
        for (const row of rows) {
          expect(row).toMatchObject({ actor_type: "operator", actor_id: admin.id, reason });
        }
      },
    );
  });
});
