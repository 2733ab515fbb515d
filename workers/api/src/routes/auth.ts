import { createRoute, z } from "@hono/zod-openapi";
import { ACCESS_STATES } from "@tenantry/plans";
import { newRouter } from "../app";
import { type Actor, actingUserId } from "../context";
import { ValidationError } from "../errors";
import { resolveTenant } from "../middleware/tenant";
import { tenantRoute } from "../middleware/tenant-route";
import { billingAccess } from "../services/billing";
import { resendEmailVerification, verifyEmail } from "../services/email-verification";
import { createHandoff, redeemHandoff } from "../services/handoff";
import { completeMfaLogin, login } from "../services/login";
import { unreadCount } from "../services/notifications";
import { confirmPasswordReset, requestPasswordReset } from "../services/password-reset";
import { refreshSession, revokeSession } from "../services/sessions";
import { brandingView, readBranding } from "../services/settings";
import { EmailSchema, PasswordSchema } from "../services/signup";
import { findUser } from "../services/users";
import { ApiKeySchema } from "./api-keys";
import {
  conflictError,
  jsonBody,
  jsonResponse,
  security,
  serviceContext,
  sessionSecurity,
  tenantErrors,
  tenantRequestContext,
} from "./helpers";
import { MfaCodeSchema } from "./mfa";

export const TokenPairSchema = z
  .object({
    access_token: z.string(),
    refresh_token: z.string(),
    token_type: z.literal("Bearer"),
    expires_in: z.number().int(),
  })
  .openapi("TokenPair");
const MfaChallengeSchema = z
  .object({
    mfa_required: z.literal(true),
    challenge: z.string(),
    expires_in: z.number().int(),
  })
  .openapi("MfaChallenge", {
    description: "The member has MFA: send the challenge and a code to POST /v1/auth/login/mfa",
  });
const TokenInputSchema = z.strictObject({ token: z.string().min(1).max(200) });
const accepted = { description: "Accepted" };
/** Routes that act for a signed-in user's own session: sign-out, hand-off, resending mail. */
const sessionOnly = tenantRoute(undefined, {
  essential: true,
  refuseSupport: true,
  beforeMfaEnrolment: true,
});

/** The signed-in user behind a session; API keys have none. */
function sessionUser(actor: Actor) {
  if (actor.type !== "user")
    throw new ValidationError(
      "API keys have no session: this acts on a signed-in user's own session (revoke a key instead).",
    );
  return actor;
}
const noContent = { description: "Done" };

export const authRoutes = newRouter()
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/auth/login",
      operationId: "signIn",
      tags: ["auth"],
      summary: "Sign in with email and password",
      security: [],
      middleware: [resolveTenant] as const,
      request: {
        body: jsonBody(
          z.strictObject({ email: EmailSchema, password: z.string().min(1).max(200) }),
        ),
      },
      responses: {
        200: jsonResponse(
          z.union([TokenPairSchema, MfaChallengeSchema]),
          "Signed in, or (the member has MFA) a challenge for the second step",
        ),
        ...tenantErrors,
      },
    }),
    async (c) =>
      c.json(await login({ ctx: tenantRequestContext(c), input: c.req.valid("json") }), 200),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/auth/login/mfa",
      operationId: "signInWithMfa",
      tags: ["auth"],
      summary: "Second sign-in step: the challenge and a TOTP or recovery code (each works once)",
      security: [],
      middleware: [resolveTenant] as const,
      request: {
        body: jsonBody(
          z.strictObject({
            challenge: z.string().min(1).max(2000),
            code: MfaCodeSchema.shape.code,
          }),
        ),
      },
      responses: { 200: jsonResponse(TokenPairSchema, "Signed in"), ...tenantErrors },
    }),
    async (c) =>
      c.json(
        await completeMfaLogin({ ctx: tenantRequestContext(c), input: c.req.valid("json") }),
        200,
      ),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/auth/refresh",
      operationId: "refreshTokens",
      tags: ["auth"],
      summary: "Rotate the refresh token (reuse of an old one revokes the session)",
      security: [],
      middleware: [resolveTenant] as const,
      request: { body: jsonBody(z.strictObject({ refresh_token: z.string().min(1).max(200) })) },
      responses: { 200: jsonResponse(TokenPairSchema, "New tokens"), ...tenantErrors },
    }),
    async (c) =>
      c.json(
        await refreshSession({
          ctx: tenantRequestContext(c),
          input: { refreshToken: c.req.valid("json").refresh_token },
        }),
        200,
      ),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/auth/logout",
      operationId: "signOut",
      tags: ["auth"],
      summary: "Revoke the current session",
      security: sessionSecurity,
      middleware: sessionOnly,
      responses: { 204: noContent, ...tenantErrors },
    }),
    async (c) => {
      const actor = sessionUser(c.get("actor"));
      await revokeSession({
        ctx: { ...tenantRequestContext(c), actor },
        input: { sessionId: actor.sessionId, reason: "logout" },
      });
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/auth/verify-email",
      operationId: "verifyEmail",
      tags: ["auth"],
      summary: "Verify an email address with the mailed token",
      security: [],
      middleware: [resolveTenant] as const,
      request: { body: jsonBody(TokenInputSchema) },
      responses: { 204: noContent, ...tenantErrors },
    }),
    async (c) => {
      await verifyEmail({ ctx: tenantRequestContext(c), input: c.req.valid("json") });
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/auth/handoff",
      operationId: "createHandoff",
      tags: ["auth"],
      summary:
        "A one-time code (60 s) that moves this session to a browser on the tenant's host (ADR 018)",
      security: sessionSecurity,
      middleware: sessionOnly,
      responses: {
        201: jsonResponse(
          z.object({ code: z.string(), expires_in: z.number().int() }).openapi("HandoffCode"),
          "Redeem it once, on this tenant's host, with POST /v1/auth/handoff/redeem",
        ),
        ...tenantErrors,
      },
    }),
    async (c) => {
      const actor = sessionUser(c.get("actor"));
      const code = await createHandoff({
        ctx: tenantRequestContext(c),
        input: { userId: actor.id, sessionId: actor.sessionId },
      });
      return c.json(code, 201);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/auth/handoff/redeem",
      operationId: "redeemHandoff",
      tags: ["auth"],
      summary: "Exchange a hand-off code for a new session; the handed-off session is revoked",
      security: [],
      middleware: [resolveTenant] as const,
      request: { body: jsonBody(z.strictObject({ code: z.string().min(1).max(200) })) },
      responses: { 200: jsonResponse(TokenPairSchema, "Signed in"), ...tenantErrors },
    }),
    async (c) =>
      c.json(
        await redeemHandoff({ ctx: tenantRequestContext(c), input: c.req.valid("json") }),
        200,
      ),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/auth/verify-email/resend",
      operationId: "resendEmailVerification",
      tags: ["auth"],
      summary: "Mail the signed-in user a new verification link (throttled per user)",
      security: sessionSecurity,
      middleware: sessionOnly,
      responses: { 202: accepted, 409: conflictError, ...tenantErrors },
    }),
    async (c) => {
      const actor = sessionUser(c.get("actor"));
      await resendEmailVerification({ ctx: tenantRequestContext(c), input: { userId: actor.id } });
      return c.body(null, 202);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/auth/password-reset",
      operationId: "requestPasswordReset",
      tags: ["auth"],
      summary: "Mail a password reset link (202 for any address; throttled per address and client)",
      security: [],
      middleware: [resolveTenant] as const,
      request: { body: jsonBody(z.strictObject({ email: EmailSchema })) },
      responses: { 202: accepted, ...tenantErrors },
    }),
    async (c) => {
      await requestPasswordReset({ ctx: tenantRequestContext(c), input: c.req.valid("json") });
      return c.body(null, 202);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/auth/password-reset/confirm",
      operationId: "confirmPasswordReset",
      tags: ["auth"],
      summary:
        "Set a new password; revokes every session of the user and lists the API keys they created",
      security: [],
      middleware: [resolveTenant] as const,
      request: {
        body: jsonBody(
          z.strictObject({ token: z.string().min(1).max(200), password: PasswordSchema }),
        ),
      },
      responses: {
        200: jsonResponse(
          z.object({ api_keys: z.array(ApiKeySchema) }),
          "Password set. Whoever had the old password could have created these keys: check them",
        ),
        ...tenantErrors,
      },
    }),
    async (c) =>
      c.json(
        await confirmPasswordReset({ ctx: tenantRequestContext(c), input: c.req.valid("json") }),
        200,
      ),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/me",
      operationId: "getMe",
      tags: ["auth"],
      summary: "The caller, their role and permissions in this tenant",
      security,
      middleware: tenantRoute(undefined, { beforeMfaEnrolment: true }),
      responses: {
        200: jsonResponse(
          z.object({
            tenant: z.object({
              id: z.string(),
              slug: z.string(),
              name: z.string(),
              plan: z.string().nullable(),
              access: z.enum(ACCESS_STATES).openapi({
                description:
                  "What billing allows: full, read_only (past due beyond grace, or paused) or free_limits",
              }),
              grace_ends_at: z.string().nullable().openapi({
                description: "Past due within grace: when the workspace turns read-only",
              }),
            }),
            user: z
              .object({ id: z.string(), email: z.string(), email_verified: z.boolean() })
              .nullable(),
            api_key: z.object({ id: z.string() }).nullable(),
            role: z.string().nullable(),
            permissions: z.array(z.string()),
            support: z
              .object({
                session_id: z.string(),
                mode: z.enum(["read", "write"]),
                operator: z.object({ id: z.string(), email: z.string() }),
                expires_at: z.string(),
              })
              .nullable()
              .openapi({
                description:
                  "Set when an operator acts through support access: the caller is then the impersonated user, and the operator is named here",
              }),
            branding: z
              .object({
                accent_color: z.string().nullable(),
                logo_updated_at: z.string().nullable(),
              })
              .openapi({ description: "What every page of the app draws: see GET /v1/settings" }),
            mfa_enrolment_required: z.boolean().openapi({
              description:
                "The workspace requires MFA and the caller has not enrolled: every other route answers 403 mfa_enrolment_required until POST /v1/me/mfa/enrol and /confirm",
            }),
            unread_notifications: z.number().int().openapi({
              description:
                "The tenant's unread notifications (the bell): see GET /v1/notifications",
            }),
          }),
          "The caller",
        ),
        ...tenantErrors,
      },
    }),
    async (c) => {
      const tenant = c.get("tenant");
      const actor = c.get("actor");
      // Every member sees the billing banners, so access comes here rather than behind billing:read.
      const ctx = serviceContext(c);
      const [user, brand, billing, unread] = await Promise.all([
        actor.type === "api_key" ? null : findUser(c.env, actingUserId(actor)),
        readBranding(ctx).then(brandingView),
        billingAccess(c.env, tenant.id),
        unreadCount(ctx),
      ]);
      return c.json(
        {
          tenant: {
            id: tenant.id,
            slug: tenant.slug,
            name: tenant.name,
            plan: tenant.plan,
            ...billing,
          },
          user: user
            ? { id: user.id, email: user.email, email_verified: user.emailVerifiedAt !== null }
            : null,
          api_key: actor.type === "api_key" ? { id: actor.id } : null,
          role: "role" in actor ? actor.role : null,
          permissions: [...actor.permissions].sort(),
          support:
            actor.type === "support"
              ? {
                  session_id: actor.id,
                  mode: actor.mode,
                  operator: actor.operator,
                  expires_at: new Date(actor.expiresAt).toISOString(),
                }
              : null,
          branding: {
            accent_color: brand.accent_color,
            logo_updated_at: brand.logo?.updated_at ?? null,
          },
          mfa_enrolment_required: actor.type === "user" && actor.mfaEnrolmentRequired,
          unread_notifications: unread,
        },
        200,
      );
    },
  );
