import { createRoute, z } from "@hono/zod-openapi";
import { NOTIFICATION_KINDS } from "@tenantry/core";
import { newRouter } from "../app";
import { PageQuerySchema, pageSchema } from "../lib/pagination";
import { tenantRoute } from "../middleware/tenant-route";
import {
  listNotifications,
  markAllNotificationsRead,
  markNotificationRead,
} from "../services/notifications";
import { IdParamSchema, jsonResponse, security, serviceContext, tenantErrors } from "./helpers";

const NotificationSchema = z
  .object({
    id: z.string(),
    kind: z.enum(NOTIFICATION_KINDS),
    title: z.string(),
    body: z.string().nullable(),
    link: z.string().nullable().openapi({ description: "An app path that shows more" }),
    read_at: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi("Notification");

const NotificationPageSchema = pageSchema(NotificationSchema)
  .extend({ unread_count: z.number().int() })
  .openapi("NotificationPage");

// No permission: every member (and API key) of the tenant reads its one inbox (ADR 019). No
// `requireWritable` either: a read-only billing state still lets people mark things read.
export const notificationRoutes = newRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/notifications",
      operationId: "listNotifications",
      tags: ["notifications"],
      summary: "The tenant's notifications, newest first, with the unread count",
      security,
      middleware: tenantRoute(),
      request: { query: PageQuerySchema },
      responses: { 200: jsonResponse(NotificationPageSchema, "Notifications"), ...tenantErrors },
    }),
    async (c) =>
      c.json(await listNotifications({ ctx: serviceContext(c), input: c.req.valid("query") }), 200),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/notifications/read-all",
      operationId: "markAllNotificationsRead",
      tags: ["notifications"],
      summary: "Mark every notification read",
      security,
      middleware: tenantRoute(),
      responses: {
        200: jsonResponse(
          z.object({ marked: z.number().int(), unread_count: z.number().int() }),
          "Marked",
        ),
        ...tenantErrors,
      },
    }),
    async (c) => c.json(await markAllNotificationsRead({ ctx: serviceContext(c) }), 200),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/notifications/{id}/read",
      operationId: "markNotificationRead",
      tags: ["notifications"],
      summary: "Mark one notification read",
      security,
      middleware: tenantRoute(),
      request: { params: IdParamSchema },
      responses: { 200: jsonResponse(NotificationSchema, "The notification"), ...tenantErrors },
    }),
    async (c) =>
      c.json(
        await markNotificationRead({ ctx: serviceContext(c), input: c.req.valid("param") }),
        200,
      ),
  );
