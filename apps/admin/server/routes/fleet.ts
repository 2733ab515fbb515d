import { createRoute, z } from "@hono/zod-openapi";
import {
  jsonBody,
  jsonResponse,
  newAdminRouter,
  operatorContext,
  operatorErrors,
  operatorRoute,
  operatorSecurity,
} from "../router";
import {
  fleetOverview,
  fleetRunProgress,
  listFleetTenants,
  resumeFleetRun,
  startFleetRun,
} from "../services/fleet";

const RunSchema = z
  .object({
    id: z.string(),
    state: z.enum(["running", "halted", "completed"]),
    lock: z.string().nullable(),
    targetVersion: z.number(),
    wave: z.number().openapi({ description: "The wave being migrated; 0 is the canary" }),
    firstWave: z.number(),
    growth: z.number(),
    maxFailurePercent: z.number(),
    cursor: z.string(),
    haltReason: z.string().nullable(),
    startedBy: z.string(),
    createdAt: z.number(),
    updatedAt: z.number(),
  })
  .openapi("FleetRun");

const ProgressSchema = z
  .object({
    run: RunSchema,
    waves: z.array(
      z.object({ wave: z.number(), pending: z.number(), done: z.number(), failed: z.number() }),
    ),
    failures: z.array(
      z.object({ tenant_id: z.string(), wave: z.number(), error: z.string().nullable() }),
    ),
    behind: z.number(),
  })
  .openapi("FleetRunProgress");

const PoolSchema = z.object({
  size: z.number(),
  assigned: z.number(),
  free: z.number(),
  low_water: z.number(),
  low: z.boolean(),
});

const RunParams = z.object({ runId: z.string() });
const conflict = {
  409: { ...operatorErrors[404], description: "Another run is open, or none is needed" },
};

export const fleetRoutes = newAdminRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/fleet",
      operationId: "getFleet",
      tags: ["fleet"],
      summary: "Tenants per schema version, the pool's free databases, the last migration run",
      security: operatorSecurity,
      middleware: operatorRoute("fleet:read"),
      responses: {
        200: jsonResponse(
          z.object({
            latest_version: z.number(),
            versions: z.array(z.object({ version: z.number(), tenants: z.number() })),
            pool: PoolSchema,
            last_run: RunSchema.nullable(),
          }),
          "The fleet",
        ),
        ...operatorErrors,
      },
    }),
    async (c) => c.json(await fleetOverview({ ctx: operatorContext(c) }), 200),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/fleet/tenants",
      operationId: "listFleetTenants",
      tags: ["fleet"],
      summary: "Provisioned tenants with their schema version (`behind=1`: only those to migrate)",
      security: operatorSecurity,
      middleware: operatorRoute("fleet:read"),
      request: {
        query: z.object({
          cursor: z.string().optional(),
          limit: z.coerce.number().int().min(1).max(200).optional(),
          behind: z.enum(["0", "1"]).optional(),
        }),
      },
      responses: {
        200: jsonResponse(
          z.object({
            latest_version: z.number(),
            data: z.array(
              z.object({
                id: z.string(),
                slug: z.string(),
                status: z.string(),
                schema_version: z.number(),
                database_binding: z.string().nullable(),
              }),
            ),
            next_cursor: z.string().nullable(),
          }),
          "A page of tenants",
        ),
        ...operatorErrors,
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const page = await listFleetTenants({
        ctx: operatorContext(c),
        input: { cursor: q.cursor, limit: q.limit, behindOnly: q.behind === "1" },
      });
      return c.json(page, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/fleet/runs",
      operationId: "startFleetRun",
      tags: ["fleet"],
      summary: "Starts a migration run to the latest tenant schema: a canary, then growing waves",
      security: operatorSecurity,
      middleware: operatorRoute("fleet:migrate"),
      request: {
        body: jsonBody(
          z.object({
            reason: z.string().trim().min(3).max(500),
            first_wave: z.number().int().min(1).max(1000).optional(),
            growth: z.number().int().min(1).max(10).optional(),
            max_failure_percent: z.number().int().min(0).max(100).optional(),
          }),
        ),
      },
      responses: { 202: jsonResponse(ProgressSchema, "Started"), ...operatorErrors, ...conflict },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const progress = await startFleetRun({
        ctx: operatorContext(c),
        input: {
          reason: body.reason,
          firstWave: body.first_wave,
          growth: body.growth,
          maxFailurePercent: body.max_failure_percent,
        },
      });
      return c.json(progress, 202);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/fleet/runs/{runId}",
      operationId: "getFleetRun",
      tags: ["fleet"],
      summary: "A run's live progress per wave, with failures (poll it)",
      security: operatorSecurity,
      middleware: operatorRoute("fleet:read"),
      request: { params: RunParams },
      responses: { 200: jsonResponse(ProgressSchema, "Progress"), ...operatorErrors },
    }),
    async (c) => {
      const progress = await fleetRunProgress({
        ctx: operatorContext(c),
        input: { runId: c.req.valid("param").runId },
      });
      return c.json(progress, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/fleet/runs/{runId}/resume",
      operationId: "resumeFleetRun",
      tags: ["fleet"],
      summary: "Resumes a halted run: retries the wave's failures, never redoes done tenants",
      security: operatorSecurity,
      middleware: operatorRoute("fleet:migrate"),
      request: {
        params: RunParams,
        body: jsonBody(z.object({ reason: z.string().trim().min(3).max(500) })),
      },
      responses: { 202: jsonResponse(ProgressSchema, "Resumed"), ...operatorErrors, ...conflict },
    }),
    async (c) => {
      const progress = await resumeFleetRun({
        ctx: operatorContext(c),
        input: { runId: c.req.valid("param").runId, reason: c.req.valid("json").reason },
      });
      return c.json(progress, 202);
    },
  );
