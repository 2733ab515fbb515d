import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { newRouter } from "../app";
import type { AppEnv } from "../context";
import { apexOnly } from "../middleware/tenant";
import {
  checkSlug,
  confirmSignUp,
  SignupInputSchema,
  type SignupResult,
  signUp,
} from "../services/signup";
import {
  conflictError,
  jsonBody,
  jsonResponse,
  requestMeta,
  tenantErrors,
  unavailableError,
} from "./helpers";

const SignupResponseSchema = z
  .object({
    tenant: z.object({ id: z.string(), slug: z.string(), url: z.string() }),
    user: z.object({ id: z.string(), email: z.string() }),
    access_token: z.string(),
    refresh_token: z.string(),
    token_type: z.literal("Bearer"),
    expires_in: z.number().int(),
  })
  .openapi("SignupResult");
const ConfirmationSentSchema = z
  .object({ status: z.literal("confirmation_sent") })
  .openapi("SignupConfirmationSent");

/** The Stripe link runs after the answer. */
const signupContext = (c: Context<AppEnv>) => ({
  env: c.env,
  ...requestMeta(c),
  waitUntil: (p: Promise<unknown>) => c.executionCtx.waitUntil(p),
});

const createdBody = (r: SignupResult) => ({ tenant: r.tenant, user: r.user, ...r.tokens });

export const signupRoutes = newRouter()
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/signup",
      operationId: "signUp",
      tags: ["sign-up"],
      summary: "Create a tenant and its owner (apex host only)",
      security: [],
      middleware: [apexOnly] as const,
      request: { body: jsonBody(SignupInputSchema.openapi("SignupInput")) },
      responses: {
        201: jsonResponse(SignupResponseSchema, "Tenant created and active"),
        202: jsonResponse(
          ConfirmationSentSchema,
          "The email already has an account: a link that creates the organisation was mailed to it",
        ),
        400: tenantErrors[400],
        404: tenantErrors[404],
        409: conflictError,
        429: tenantErrors[429],
        503: unavailableError,
      },
    }),
    async (c) => {
      const result = await signUp({ ctx: signupContext(c), input: c.req.valid("json") });
      if (result.status !== "created") return c.json({ status: result.status }, 202);
      return c.json(createdBody(result), 201);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/signup/confirm",
      operationId: "confirmSignUp",
      tags: ["sign-up"],
      summary: "Create the organisation an existing account asked for, with the mailed token",
      security: [],
      middleware: [apexOnly] as const,
      request: { body: jsonBody(z.strictObject({ token: z.string().min(1).max(2000) })) },
      responses: {
        201: jsonResponse(SignupResponseSchema, "Tenant created and active"),
        400: tenantErrors[400],
        404: tenantErrors[404],
        409: conflictError,
        429: tenantErrors[429],
        503: unavailableError,
      },
    }),
    async (c) => {
      const result = await confirmSignUp({ ctx: signupContext(c), input: c.req.valid("json") });
      return c.json(createdBody(result), 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/slugs/{slug}",
      operationId: "checkSlugAvailability",
      tags: ["sign-up"],
      summary: "Is a slug available?",
      security: [],
      middleware: [apexOnly] as const,
      request: { params: z.object({ slug: z.string().max(100) }) },
      responses: {
        200: jsonResponse(
          z.object({
            slug: z.string(),
            available: z.boolean(),
            reason: z.enum(["taken", "reserved", "invalid"]).optional(),
          }),
          "Availability",
        ),
        400: tenantErrors[400],
        404: tenantErrors[404],
      },
    }),
    async (c) => c.json(await checkSlug(c.env, c.req.valid("param").slug), 200),
  );
