import { createRoute, z } from "@hono/zod-openapi";
import { newRouter } from "../app";
import { tenantRoute } from "../middleware/tenant-route";
import { deleteLogo, getLogo, MAX_LOGO_BYTES, putLogo } from "../services/logo";
import { getSettings, updateSettings } from "../services/settings";
import { jsonBody, jsonResponse, problem, security, serviceContext, tenantErrors } from "./helpers";

const LogoSchema = z
  .object({
    content_type: z.string().openapi({ example: "image/png" }),
    size: z.number().int(),
    updated_at: z.string().openapi({ description: "Changes with every upload: version its URL" }),
  })
  .openapi("Logo");

const SettingsSchema = z
  .object({
    name: z.string(),
    accent_color: z.string().nullable().openapi({ example: "#0b57d0" }),
    logo: LogoSchema.nullable(),
  })
  .openapi("Settings");

const binary = z.string().openapi({ type: "string", format: "binary" });
const LOGO_TYPES = ["image/png", "image/jpeg", "image/webp", "application/octet-stream"] as const;

export const settingsRoutes = newRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/settings",
      operationId: "getSettings",
      tags: ["settings"],
      summary: "The organisation's name and branding",
      security,
      middleware: tenantRoute("settings:read"),
      responses: { 200: jsonResponse(SettingsSchema, "The settings"), ...tenantErrors },
    }),
    async (c) => c.json(await getSettings({ ctx: serviceContext(c) }), 200),
  )
  .openapi(
    createRoute({
      method: "patch",
      path: "/v1/settings",
      operationId: "updateSettings",
      tags: ["settings"],
      summary: "Rename the organisation or change its accent colour (audited)",
      description:
        "`accent_color` is `#rrggbb` and must keep white text on it readable (contrast at least 4.5:1); `null` restores the default.",
      security,
      middleware: tenantRoute("settings:manage"),
      request: {
        body: jsonBody(
          z.strictObject({
            name: z.string().trim().min(1).max(100).optional(),
            accent_color: z
              .string()
              .regex(/^#[0-9a-fA-F]{6}$/, "must be a hex colour like #0b57d0")
              .nullable()
              .optional(),
          }),
        ),
      },
      responses: {
        200: jsonResponse(SettingsSchema, "The settings after the change"),
        409: problem("Renamed meanwhile by someone else"),
        ...tenantErrors,
      },
    }),
    async (c) =>
      c.json(await updateSettings({ ctx: serviceContext(c), input: c.req.valid("json") }), 200),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/settings/logo",
      operationId: "getLogo",
      tags: ["settings"],
      summary: "The organisation's logo",
      security,
      middleware: tenantRoute("settings:read"),
      responses: {
        200: {
          description: "The logo's bytes",
          content: Object.fromEntries(LOGO_TYPES.slice(0, 3).map((t) => [t, { schema: binary }])),
        },
        ...tenantErrors,
      },
    }),
    async (c) => {
      const logo = await getLogo({ ctx: serviceContext(c) });
      return c.body(logo.body, 200, {
        "content-type": logo.httpMetadata?.contentType ?? "application/octet-stream",
        "x-content-type-options": "nosniff",
        // Per tenant and signed-in only; the app versions the URL, so a change is seen at once.
        "cache-control": "private, max-age=86400",
        "content-security-policy": "default-src 'none'; sandbox",
      });
    },
  )
  .openapi(
    createRoute({
      method: "put",
      path: "/v1/settings/logo",
      operationId: "putLogo",
      tags: ["settings"],
      summary: "Upload the organisation's logo (PNG, JPEG or WebP, at most 256 KB; audited)",
      description:
        "The body is the image itself. Its type is read from its first bytes, not from Content-Type; SVG is refused (it can carry scripts).",
      security,
      middleware: tenantRoute("settings:manage"),
      request: {
        body: {
          required: true,
          content: Object.fromEntries(LOGO_TYPES.map((t) => [t, { schema: binary }])),
        },
      },
      responses: {
        200: jsonResponse(LogoSchema, "The stored logo"),
        413: problem(`Larger than ${MAX_LOGO_BYTES} bytes`),
        415: problem("Not a PNG, JPEG or WebP image (SVG included)"),
        ...tenantErrors,
      },
    }),
    async (c) => {
      const bytes = new Uint8Array(await c.req.arrayBuffer());
      return c.json(await putLogo({ ctx: serviceContext(c), input: bytes }), 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/v1/settings/logo",
      operationId: "deleteLogo",
      tags: ["settings"],
      summary: "Remove the organisation's logo (audited)",
      security,
      middleware: tenantRoute("settings:manage"),
      responses: { 204: { description: "Removed" }, ...tenantErrors },
    }),
    async (c) => {
      await deleteLogo({ ctx: serviceContext(c) });
      return c.body(null, 204);
    },
  );
