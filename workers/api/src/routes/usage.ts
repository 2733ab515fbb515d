import { createRoute, z } from "@hono/zod-openapi";
import { newRouter } from "../app";
import { tenantRoute } from "../middleware/tenant-route";
import { ingestUsage, usageSeries } from "../services/usage";
import { jsonBody, jsonResponse, security, serviceContext, tenantErrors } from "./helpers";

/** At most this many events per request. */
export const MAX_USAGE_BATCH = 1000;

const UsageEventSchema = z.strictObject({
  /** The event's id in your system: a retry with the same id is counted once. */
  id: z.string().min(1).max(255),
  metric: z.string().min(1).max(64),
  value: z.number(),
  /** ISO 8601, or Unix seconds. */
  timestamp: z.union([z.string().max(64), z.number()]),
});

const OutcomeSchema = z.object({
  id: z.string(),
  status: z.enum(["accepted", "duplicate", "rejected"]),
  reason: z.string().optional(),
  detail: z.string().optional(),
});

export const usageRoutes = newRouter()
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/usage/events",
      operationId: "reportUsageEvents",
      tags: ["usage"],
      summary: `Report up to ${MAX_USAGE_BATCH} usage events; each is accepted, a duplicate or rejected`,
      security,
      // Bulk ingestion: it also draws from the plan's smaller budget for expensive routes.
      middleware: tenantRoute("usage:write", { expensive: true }),
      request: {
        body: jsonBody(
          z.strictObject({ events: z.array(UsageEventSchema).min(1).max(MAX_USAGE_BATCH) }),
        ),
      },
      responses: {
        200: jsonResponse(
          z.object({
            accepted: z.number(),
            duplicates: z.number(),
            rejected: z.number(),
            results: z.array(OutcomeSchema),
          }),
          "The outcome of every event, in request order",
        ),
        ...tenantErrors,
      },
    }),
    async (c) =>
      c.json(await ingestUsage({ ctx: serviceContext(c), input: c.req.valid("json") }), 200),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/usage",
      operationId: "getUsage",
      tags: ["usage"],
      summary: "Usage of a metric per hour or day, including what is not flushed yet",
      security,
      middleware: tenantRoute("usage:read"),
      request: {
        query: z.object({
          metric: z.string().max(64),
          from: z.string().max(64).optional(),
          to: z.string().max(64).optional(),
          granularity: z.enum(["hour", "day"]).default("day"),
        }),
      },
      responses: {
        200: jsonResponse(
          z.object({
            metric: z.string(),
            granularity: z.string(),
            from: z.string(),
            to: z.string(),
            total: z.number(),
            data: z.array(z.object({ start: z.string(), value: z.number() })),
            period: z
              .object({ start: z.string(), end: z.string(), used: z.number() })
              .openapi({ description: "The quota period holding now, and its usage so far" }),
          }),
          "Buckets with usage, oldest first",
        ),
        ...tenantErrors,
      },
    }),
    async (c) =>
      c.json(await usageSeries({ ctx: serviceContext(c), input: c.req.valid("query") }), 200),
  );
