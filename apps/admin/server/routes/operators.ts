import { createRoute, z } from "@hono/zod-openapi";
import { OPERATOR_ROLES } from "../roles";
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
  createOperatorToken,
  listOperatorTokens,
  MAX_TOKEN_DAYS,
  type OperatorTokenView,
  revokeOperatorToken,
} from "../services/operator-tokens";
import {
  inviteOperator,
  listOperators,
  type OperatorView,
  resetOperatorTotp,
  updateOperator,
} from "../services/operators";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const Role = z.enum(OPERATOR_ROLES);
const Reason = z.string().trim().min(3).max(500);

const TokenSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    role: Role,
    created_at: z.string(),
    expires_at: z.string(),
    last_used_at: z.string().nullable(),
    revoked_at: z.string().nullable(),
  })
  .openapi("OperatorToken");

const tokenJson = (t: OperatorTokenView) => ({
  id: t.id,
  name: t.name,
  role: t.role,
  created_at: new Date(t.createdAt).toISOString(),
  expires_at: new Date(t.expiresAt).toISOString(),
  last_used_at: iso(t.lastUsedAt),
  revoked_at: iso(t.revokedAt),
});

const OperatorAccountSchema = z
  .object({
    id: z.string(),
    email: z.string(),
    name: z.string(),
    role: Role,
    status: z.enum(["active", "disabled"]),
    created_at: z.string(),
  })
  .openapi("OperatorAccount");

const operatorJson = (o: OperatorView) => ({
  id: o.id,
  email: o.email,
  name: o.name,
  role: o.role,
  status: o.status,
  created_at: new Date(o.createdAt).toISOString(),
});

const IdParam = z.object({ id: z.string().min(1) });
const ok = jsonResponse(z.object({ ok: z.literal(true) }), "Done");

/** The operator realm over JSON: one's own API tokens, and (platform admins) the operators. */
export const operatorRoutes = newAdminRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/tokens",
      operationId: "listOperatorTokens",
      tags: ["operators"],
      summary: "Your API tokens (never their secrets)",
      security: operatorSecurity,
      middleware: operatorRoute("tokens:own"),
      responses: {
        200: jsonResponse(z.object({ tokens: z.array(TokenSchema) }), "Tokens"),
        ...operatorErrors,
      },
    }),
    async (c) => {
      const tokens = await listOperatorTokens({ ctx: operatorContext(c) });
      return c.json({ tokens: tokens.map(tokenJson) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/tokens",
      operationId: "createOperatorToken",
      tags: ["operators"],
      summary: "Create an API token: shown once, expiring, with your role or read_only",
      security: operatorSecurity,
      middleware: operatorRoute("tokens:own"),
      request: {
        body: jsonBody(
          z.object({
            name: z.string().trim().min(1).max(100),
            role: Role.optional(),
            expires_in_days: z.number().int().min(1).max(MAX_TOKEN_DAYS),
            reason: Reason,
          }),
        ),
      },
      responses: {
        201: jsonResponse(TokenSchema.extend({ token: z.string() }), "The token, shown once"),
        ...operatorErrors,
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const ctx = operatorContext(c);
      const created = await createOperatorToken({
        ctx,
        input: {
          name: body.name,
          role: body.role ?? ctx.operator.role,
          expiresInDays: body.expires_in_days,
          reason: body.reason,
        },
      });
      return c.json({ ...tokenJson(created), token: created.token }, 201);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/tokens/{id}/revoke",
      operationId: "revokeOperatorToken",
      tags: ["operators"],
      summary: "Revoke an API token (yours, or anyone's for a platform admin)",
      security: operatorSecurity,
      middleware: operatorRoute("tokens:own"),
      request: { params: IdParam, body: jsonBody(z.object({ reason: Reason })) },
      responses: { 200: ok, ...operatorErrors },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      await revokeOperatorToken({ ctx: operatorContext(c), input: { id, ...c.req.valid("json") } });
      return c.json({ ok: true as const }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/operators",
      operationId: "listOperators",
      tags: ["operators"],
      summary: "Every operator account",
      security: operatorSecurity,
      middleware: operatorRoute("operators:manage"),
      responses: {
        200: jsonResponse(z.object({ operators: z.array(OperatorAccountSchema) }), "Operators"),
        ...operatorErrors,
      },
    }),
    async (c) => {
      const operators = await listOperators({ ctx: operatorContext(c) });
      return c.json({ operators: operators.map(operatorJson) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/operators",
      operationId: "inviteOperator",
      tags: ["operators"],
      summary: "Invite an operator: the account and its one-time setup link (password and TOTP)",
      security: operatorSecurity,
      middleware: operatorRoute("operators:manage"),
      request: {
        body: jsonBody(
          z.object({
            email: z.email(),
            name: z.string().trim().min(1).max(100),
            role: Role,
            reason: Reason,
          }),
        ),
      },
      responses: {
        201: jsonResponse(
          z.object({ operator: OperatorAccountSchema, setup_url: z.string().nullable() }),
          "The operator; setup_url is null behind Cloudflare Access",
        ),
        ...operatorErrors,
      },
    }),
    async (c) => {
      const invited = await inviteOperator({ ctx: operatorContext(c), input: c.req.valid("json") });
      return c.json({ operator: operatorJson(invited.operator), setup_url: invited.setupUrl }, 201);
    },
  )
  .openapi(
    createRoute({
      method: "patch",
      path: "/v1/operators/{id}",
      operationId: "updateOperator",
      tags: ["operators"],
      summary: "Change an operator's role or status, or revoke their sessions and tokens",
      security: operatorSecurity,
      middleware: operatorRoute("operators:manage"),
      request: {
        params: IdParam,
        body: jsonBody(
          z.object({
            role: Role.optional(),
            status: z.enum(["active", "disabled"]).optional(),
            revoke_credentials: z.boolean().optional(),
            reason: Reason,
          }),
        ),
      },
      responses: { 200: jsonResponse(OperatorAccountSchema, "The operator"), ...operatorErrors },
    }),
    async (c) => {
      const { revoke_credentials, ...body } = c.req.valid("json");
      const updated = await updateOperator({
        ctx: operatorContext(c),
        input: { id: c.req.valid("param").id, revokeCredentials: revoke_credentials, ...body },
      });
      return c.json(operatorJson(updated), 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/operators/{id}/reset-totp",
      operationId: "resetOperatorTotp",
      tags: ["operators"],
      summary: "Reset an operator's TOTP: credentials revoked, a new setup link to enrol again",
      security: operatorSecurity,
      middleware: operatorRoute("operators:manage"),
      request: { params: IdParam, body: jsonBody(z.object({ reason: Reason })) },
      responses: {
        200: jsonResponse(z.object({ setup_url: z.string().nullable() }), "The new setup link"),
        ...operatorErrors,
      },
    }),
    async (c) => {
      const { setupUrl } = await resetOperatorTotp({
        ctx: operatorContext(c),
        input: { id: c.req.valid("param").id, ...c.req.valid("json") },
      });
      return c.json({ setup_url: setupUrl }, 200);
    },
  );
