import { env } from "cloudflare:workers";
import { OPERATOR_ROLES } from "@tenantry/schema/control";
import { beforeAll, describe, expect, it } from "vitest";
import {
  api,
  createApiKey,
  createTenant,
  setStatus,
  subscribe,
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
/** The tenant whose credentials are tried on the admin host, and the target of tenant routes. */
let tenant: TestTenant;

/** Closes every open fleet run, so the fixture's own run can open (one open run at a time). */
async function closeFleetRuns() {
  await env.CONTROL_DB.prepare(
    "UPDATE fleet_runs SET state = 'completed', lock = NULL WHERE lock IS NOT NULL",
  ).run();
}

/** A fleet run row in `state` (open unless completed), for the routes that read or resume one. */
async function fleetRun(state: "completed" | "halted") {
  const id = `flr_suite_${crypto.randomUUID()}`;
  await env.CONTROL_DB.prepare(
    `INSERT INTO fleet_runs (id, state, lock, target_version, wave, first_wave, growth,
       max_failure_percent, cursor, halt_reason, started_by, created_at, updated_at)
     VALUES (?1, ?2, ?3, 1, 0, 10, 2, 10, '', ?4, 'opr_suite', ?5, ?5)`,
  )
    .bind(
      id,
      state,
      state === "halted" ? "open" : null,
      state === "halted" ? "suite" : null,
      Date.now(),
    )
    .run();
  return id;
}

/** A dead-lettered Stripe event of the suite's tenant, for the replay route. */
async function failedEvent() {
  const id = `evt_suite_${crypto.randomUUID()}`;
  await env.CONTROL_DB.prepare(
    `INSERT INTO stripe_events (id, type, customer_id, tenant_id, created_at, received_at, source,
       state, attempts, error)
     VALUES (?1, 'customer.subscription.updated', 'cus_suite', ?2, ?3, ?3, 'webhook', 'failed', 6,
       'suite')`,
  )
    .bind(id, tenant.tenant.id, Date.now())
    .run();
  return id;
}

/** A support session on the suite's tenant, requested by `as` (write mode waits for approval). */
async function supportSession(as: Admin, mode: "read" | "write" = "read") {
  const res = await adminFetch("/api/v1/support-sessions", {
    method: "POST",
    token: as.token,
    body: JSON.stringify({ tenant_id: tenant.tenant.id, reason, mode }),
  });
  return ((await res.json()) as { session: { id: string } }).session.id;
}

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
  "GET /api/v1/audit/verify": {
    permission: "audit:read",
    request: async () => ({ path: `/api/v1/audit/verify?tenant_id=${tenant.tenant.id}` }),
  },
  "GET /api/v1/billing/events": {
    permission: "billing:read",
    request: async () => ({ path: `/api/v1/billing/events?tenant_id=${tenant.tenant.id}` }),
  },
  "POST /api/v1/billing/events/:eventId/replay": {
    permission: "billing:write",
    request: async () => ({
      path: `/api/v1/billing/events/${await failedEvent()}/replay`,
      body: { reason },
    }),
  },
  "POST /api/v1/tenants/:tenantId/billing/resync": {
    permission: "billing:write",
    request: async () => {
      // A Stripe customer to re-sync (sign-up links one in the background).
      await env.CONTROL_DB.prepare(
        "UPDATE tenants SET stripe_customer_id = COALESCE(stripe_customer_id, 'cus_suite_' || id) WHERE id = ?1",
      )
        .bind(tenant.tenant.id)
        .run();
      return { path: `/api/v1/tenants/${tenant.tenant.id}/billing/resync`, body: { reason } };
    },
  },
  "GET /api/v1/billing/reconcile": {
    permission: "billing:read",
    request: async () => ({ path: `/api/v1/billing/reconcile?tenant_id=${tenant.tenant.id}` }),
  },
  "GET /api/v1/fleet": {
    permission: "fleet:read",
    request: async () => ({ path: "/api/v1/fleet" }),
  },
  "GET /api/v1/fleet/tenants": {
    permission: "fleet:read",
    request: async () => ({ path: "/api/v1/fleet/tenants" }),
  },
  "POST /api/v1/fleet/runs": {
    permission: "fleet:migrate",
    request: async () => {
      await closeFleetRuns();
      // A tenant behind, so there is something to migrate (its migrations are idempotent).
      await env.CONTROL_DB.prepare("UPDATE tenants SET schema_version = 0 WHERE id = ?1")
        .bind(tenant.tenant.id)
        .run();
      return { path: "/api/v1/fleet/runs", body: { reason } };
    },
  },
  "GET /api/v1/fleet/runs/:runId": {
    permission: "fleet:read",
    request: async () => ({ path: `/api/v1/fleet/runs/${await fleetRun("completed")}` }),
  },
  "POST /api/v1/fleet/runs/:runId/resume": {
    permission: "fleet:migrate",
    request: async () => {
      await closeFleetRuns();
      return { path: `/api/v1/fleet/runs/${await fleetRun("halted")}/resume`, body: { reason } };
    },
  },
  "GET /api/v1/tenants": {
    permission: "tenants:read",
    request: async () => ({ path: `/api/v1/tenants?q=${tenant.slug}&by=slug` }),
  },
  "GET /api/v1/tenants/:id": {
    permission: "tenants:read",
    request: async () => ({ path: `/api/v1/tenants/${tenant.tenant.id}` }),
  },
  "POST /api/v1/tenants/:id/suspend": {
    permission: "tenants:suspend",
    request: async () => ({
      path: `/api/v1/tenants/${(await createTenant()).tenant.id}/suspend`,
      body: { reason },
    }),
  },
  "POST /api/v1/tenants/:id/reactivate": {
    permission: "tenants:suspend",
    request: async () => {
      const t = await createTenant();
      await setStatus(t, "suspended");
      return { path: `/api/v1/tenants/${t.tenant.id}/reactivate`, body: { reason } };
    },
  },
  "GET /api/v1/tenants/:id/overrides": {
    permission: "tenants:read",
    request: async () => ({ path: `/api/v1/tenants/${tenant.tenant.id}/overrides` }),
  },
  "POST /api/v1/tenants/:id/overrides": {
    permission: "overrides:write",
    request: async () => ({
      path: `/api/v1/tenants/${tenant.tenant.id}/overrides`,
      body: { type: "limit", key: "projects", value: 5, reason, expiresAt: Date.now() + 3_600_000 },
    }),
  },
  "POST /api/v1/tenants/:id/overrides/:overrideId/expire": {
    permission: "overrides:write",
    request: async (admin) => {
      const res = await adminFetch(`/api/v1/tenants/${tenant.tenant.id}/overrides`, {
        method: "POST",
        token: admin.token,
        body: JSON.stringify({ type: "limit", key: "seats", value: 9, reason, expiresAt: null }),
      });
      const { id } = (await res.json()) as { id: string };
      return {
        path: `/api/v1/tenants/${tenant.tenant.id}/overrides/${id}/expire`,
        body: { reason },
      };
    },
  },
  "POST /api/v1/tenants/:id/plan": {
    permission: "billing:write",
    request: async () => {
      const t = await createTenant();
      const success = await subscribe(t, "pro");
      await api("GET", `${success.pathname}${success.search}`, { slug: t.slug });
      return { path: `/api/v1/tenants/${t.tenant.id}/plan`, body: { plan: "business", reason } };
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
  "POST /api/v1/support-sessions": {
    permission: "support:start",
    request: async () => ({
      path: "/api/v1/support-sessions",
      body: { tenant_id: tenant.tenant.id, reason },
    }),
  },
  "GET /api/v1/support-sessions": {
    permission: "tenants:read",
    request: async () => ({ path: `/api/v1/support-sessions?tenant_id=${tenant.tenant.id}` }),
  },
  "POST /api/v1/support-sessions/:id/approve": {
    permission: "support:write",
    request: async () => {
      const id = await supportSession(await operatorWithToken("platform_admin"), "write");
      return { path: `/api/v1/support-sessions/${id}/approve`, body: { reason } };
    },
  },
  "POST /api/v1/support-sessions/:id/end": {
    permission: "support:start",
    request: async () => {
      const id = await supportSession(await operatorWithToken("support"));
      return { path: `/api/v1/support-sessions/${id}/end`, body: { reason } };
    },
  },
  "POST /api/v1/support-sessions/:id/token": {
    permission: "support:start",
    request: async (admin) => ({
      path: `/api/v1/support-sessions/${await supportSession(admin)}/token`,
      body: { reason },
    }),
  },
  "GET /api/v1/audit-log": {
    permission: "audit:read",
    request: async (admin) => ({ path: `/api/v1/audit-log?operator=${admin.id}` }),
  },
  "GET /api/v1/audit-log.csv": {
    permission: "audit:read",
    request: async (admin) => ({ path: `/api/v1/audit-log.csv?operator=${admin.id}` }),
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
      // Problems and JSON answers are parsed; a download (CSV) is read as it is.
      const json = res.headers.get("content-type")?.includes("json");
      return { res, body: (json ? await res.json() : await res.text()) as Record<string, unknown> };
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
