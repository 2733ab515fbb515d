import { createRoute, z } from "@hono/zod-openapi";
import { newRouter } from "../app";
import { tenantRoute } from "../middleware/tenant-route";
import {
  confirmMfaEnrolment,
  disableMfa,
  mfaStatus,
  regenerateRecoveryCodes,
  startMfaEnrolment,
  verifyMfa,
} from "../services/mfa";
import { getMfaPolicy, updateMfaPolicy } from "../services/mfa-policy";
import {
  conflictError,
  jsonBody,
  jsonResponse,
  serviceContext,
  sessionSecurity,
  tenantErrors,
} from "./helpers";

/** A member's own second factor: their session only, never support access (ADR 023). */
const ownSession = tenantRoute(undefined, { refuseSupport: true, beforeMfaEnrolment: true });
export const MfaCodeSchema = z
  .strictObject({
    code: z.string().min(6).max(20).openapi({ description: "A TOTP code or a recovery code" }),
  })
  .openapi("MfaCode");
const VerifiedSchema = z
  .object({ verified_until: z.string() })
  .openapi("MfaVerified", { description: "Sensitive actions are allowed until then" });

const RecoveryCodesSchema = z
  .object({ recovery_codes: z.array(z.string()) })
  .openapi("MfaRecoveryCodes");

const MfaPolicySchema = z.object({ require_mfa: z.boolean() }).openapi("SecuritySettings");

export const mfaRoutes = newRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/me/mfa",
      operationId: "getMfa",
      tags: ["auth"],
      summary:
        "Whether the caller has MFA, recovery codes left, and until when the session is verified",
      security: sessionSecurity,
      middleware: ownSession,
      responses: {
        200: jsonResponse(
          z
            .object({
              enabled: z.boolean(),
              enabled_at: z.string().nullable(),
              recovery_codes_left: z.number().int(),
              verified_until: z.string().nullable(),
            })
            .openapi("MfaStatus"),
          "MFA status",
        ),
        ...tenantErrors,
      },
    }),
    async (c) => c.json(await mfaStatus({ ctx: serviceContext(c) }), 200),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/me/mfa/enrol",
      operationId: "startMfaEnrolment",
      tags: ["auth"],
      summary: "Start TOTP enrolment: a new secret and its otpauth URI (confirm with a code)",
      security: sessionSecurity,
      middleware: ownSession,
      responses: {
        201: jsonResponse(
          z.object({ secret: z.string(), otpauth_uri: z.string() }).openapi("MfaEnrolment"),
          "Add it to an authenticator app, then confirm with a code",
        ),
        409: conflictError,
        ...tenantErrors,
      },
    }),
    async (c) => c.json(await startMfaEnrolment({ ctx: serviceContext(c) }), 201),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/me/mfa/confirm",
      operationId: "confirmMfaEnrolment",
      tags: ["auth"],
      summary: "Confirm enrolment with a current code; returns the recovery codes, this once",
      security: sessionSecurity,
      middleware: ownSession,
      request: { body: jsonBody(MfaCodeSchema) },
      responses: {
        200: jsonResponse(RecoveryCodesSchema, "MFA is on; each recovery code works once"),
        ...tenantErrors,
      },
    }),
    async (c) =>
      c.json(
        await confirmMfaEnrolment({ ctx: serviceContext(c), input: c.req.valid("json") }),
        200,
      ),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/me/mfa/verify",
      operationId: "verifyMfa",
      tags: ["auth"],
      summary: "Step-up: prove the second factor on this session before a sensitive action",
      security: sessionSecurity,
      middleware: ownSession,
      request: { body: jsonBody(MfaCodeSchema) },
      responses: { 200: jsonResponse(VerifiedSchema, "Verified"), ...tenantErrors },
    }),
    async (c) =>
      c.json(await verifyMfa({ ctx: serviceContext(c), input: c.req.valid("json") }), 200),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/me/mfa/recovery-codes",
      operationId: "regenerateMfaRecoveryCodes",
      tags: ["auth"],
      summary:
        "Replace the recovery codes with a new set, shown this once (a code, or a recent step-up)",
      description:
        "Send a current code (authenticator or recovery code), or none after `POST /v1/me/mfa/verify` within the step-up window. The old codes stop working.",
      security: sessionSecurity,
      middleware: ownSession,
      request: {
        body: jsonBody(
          z.strictObject({
            code: MfaCodeSchema.shape.code.optional(),
          }),
        ),
      },
      responses: {
        200: jsonResponse(RecoveryCodesSchema, "The new recovery codes; each works once"),
        409: conflictError,
        ...tenantErrors,
      },
    }),
    async (c) =>
      c.json(
        await regenerateRecoveryCodes({ ctx: serviceContext(c), input: c.req.valid("json") }),
        200,
      ),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/me/mfa/disable",
      operationId: "disableMfa",
      tags: ["auth"],
      summary: "Turn MFA off (needs a current code or a recovery code)",
      security: sessionSecurity,
      middleware: ownSession,
      request: { body: jsonBody(MfaCodeSchema) },
      responses: { 204: { description: "MFA is off" }, ...tenantErrors },
    }),
    async (c) => {
      await disableMfa({ ctx: serviceContext(c), input: c.req.valid("json") });
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/settings/security",
      operationId: "getSecuritySettings",
      tags: ["settings"],
      summary: "The workspace's MFA policy",
      security: sessionSecurity,
      middleware: tenantRoute("settings:read"),
      responses: { 200: jsonResponse(MfaPolicySchema, "The policy"), ...tenantErrors },
    }),
    async (c) => c.json(await getMfaPolicy({ ctx: serviceContext(c) }), 200),
  )
  .openapi(
    createRoute({
      method: "patch",
      path: "/v1/settings/security",
      operationId: "updateSecuritySettings",
      tags: ["settings"],
      summary:
        "Require MFA of every member (owners only, after a recent code; SSO sessions satisfy it through the IdP)",
      security: sessionSecurity,
      middleware: tenantRoute("settings:manage", { refuseSupport: true }),
      request: { body: jsonBody(MfaPolicySchema.strict()) },
      responses: {
        200: jsonResponse(MfaPolicySchema, "The policy"),
        409: conflictError,
        ...tenantErrors,
      },
    }),
    async (c) =>
      c.json(await updateMfaPolicy({ ctx: serviceContext(c), input: c.req.valid("json") }), 200),
  );
