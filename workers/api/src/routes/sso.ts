import { createRoute, z } from "@hono/zod-openapi";
import { newRouter } from "../app";
import { requireFeature } from "../middleware/entitlements";
import { resolveTenant } from "../middleware/tenant";
import { tenantRoute } from "../middleware/tenant-route";
import { ROLES, type Role } from "../rbac/permissions";
import { GRANTABLE } from "../services/scim-roles";
import { EmailSchema } from "../services/signup";
import {
  addSsoDomain,
  createSamlConnection,
  createSsoConnection,
  deleteSsoConnection,
  getSsoConnection,
  listSsoConnections,
  refreshSamlMetadata,
  removeSsoDomain,
  samlSpMetadata,
  updateSsoConnection,
  verifySsoDomain,
} from "../services/sso/connections";
import { RoleMappingSchema } from "../services/sso/role-mapping";
import { finishSaml } from "../services/sso/saml";
import { discoverSso, finishSso, startSso, testSsoConnection } from "../services/sso/sign-in";
import { TokenPairSchema } from "./auth";
import {
  conflictError,
  IdParamSchema,
  jsonBody,
  jsonResponse,
  problem,
  security,
  serviceContext,
  tenantErrors,
  tenantRequestContext,
} from "./helpers";

const DomainSchema = z
  .object({
    domain: z.string(),
    verified: z.boolean(),
    verified_at: z.string().nullable(),
    verification: z.object({
      type: z.literal("TXT"),
      name: z.string().openapi({ example: "_tenantry-verify.example.com" }),
      value: z.string(),
    }),
  })
  .openapi("SsoDomain");

const SamlSchema = z
  .object({
    idp_entity_id: z.string(),
    idp_sso_url: z.string().openapi({ description: "The IdP's HTTP-Redirect SSO endpoint" }),
    certificates: z
      .array(z.object({ sha256: z.string(), not_after: z.string() }))
      .openapi({ description: "The IdP signing certificates (several during a rollover)" }),
    metadata_url: z.string().nullable().openapi({ description: "Null when uploaded" }),
    metadata_fetched_at: z.string().nullable(),
    allow_idp_initiated: z.boolean(),
    groups_attribute: z.string(),
    sp: z
      .object({ entity_id: z.string(), acs_url: z.string(), metadata_url: z.string() })
      .openapi({ description: "Our values, to enter at the IdP" }),
  })
  .openapi("SamlConnectionDetails");

const ConnectionSchema = z
  .object({
    id: z.string(),
    protocol: z.enum(["oidc", "saml"]),
    name: z.string(),
    enabled: z.boolean(),
    enforced: z.boolean().openapi({
      description: "Passwords refused for the verified domains (owners keep theirs: break-glass)",
    }),
    default_role: z.enum(ROLES),
    role_mapping: RoleMappingSchema.nullable().openapi({
      description:
        "The role a sign-in's claim gives: the first rule whose value the claim holds, else the default role; applied at each sign-in (owners are left alone)",
    }),
    issuer: z.string(),
    client_id: z.string(),
    client_secret_set: z.boolean(),
    redirect_uri: z.string().openapi({ description: "Register this at the identity provider" }),
    domains: z.array(DomainSchema),
    saml: SamlSchema.nullable().openapi({ description: "SAML connections only" }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("SsoConnection");

/** A connection never makes owners: not by default, not by a mapping. */
const GrantableRoleSchema = z.enum(GRANTABLE as [Role, ...Role[]]);

const DomainNameSchema = z
  .string()
  .trim()
  .toLowerCase()
  .max(253)
  .regex(
    /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
    "must be a domain like example.com",
  );
const DomainParamsSchema = z.object({ id: z.string().max(64), domain: DomainNameSchema });

const MetadataUrlSchema = z.url().max(2000);
/** Under the API's 64 KiB body limit; IdP metadata is a few KiB (Entra's ~25 KB). */
const MetadataXmlSchema = z.string().min(1).max(60_000);
/** The HTTP-POST binding's base64 form value (IdPs may wrap its lines); ~4–15 KB in practice. */
const SamlResponseSchema = z
  .string()
  .min(4)
  .max(60_000)
  .regex(/^[A-Za-z0-9+/\s]+={0,2}\s*$/, "must be base64")
  .refine((v) => v.replace(/\s+/g, "").length % 4 === 0, "must be base64 (whole quanta)");
const invalidMetadata = problem("The IdP metadata cannot be used (the detail says why)");

/** Configuring SSO: owners and admins (`settings:manage`), on a plan with the `sso` feature. */
const manage = [...tenantRoute("settings:manage"), requireFeature("sso")];
const tags = ["sso"];
const SsoTestResultSchema = z
  .object({
    test: z.object({
      claims: z.record(z.string(), z.unknown()),
      domain_served: z.boolean().openapi({
        description: "Whether the email is on a verified domain of this connection",
      }),
    }),
  })
  .openapi("SsoTestResult");

/** What both protocols' finishes answer. */
const signedInOrTested = jsonResponse(
  z.union([TokenPairSchema, SsoTestResultSchema]),
  "Signed in (a token pair), or a test's result (`test`: claims, no session)",
);

export const ssoRoutes = newRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/sso/connections",
      operationId: "listSsoConnections",
      tags,
      summary: "The organisation's SSO connections with their domains",
      security,
      middleware: manage,
      responses: {
        200: jsonResponse(z.object({ data: z.array(ConnectionSchema) }), "The connections"),
        ...tenantErrors,
      },
    }),
    async (c) => c.json(await listSsoConnections({ ctx: serviceContext(c) }), 200),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/sso/connections",
      operationId: "createSsoConnection",
      tags,
      summary:
        "Add an OIDC connection (read from the issuer's discovery document; off until enabled)",
      description:
        "The client secret is stored encrypted and never returned. Register `redirect_uri` of the answer at the provider.",
      security,
      middleware: manage,
      request: {
        body: jsonBody(
          z.strictObject({
            name: z.string().trim().min(1).max(100),
            issuer: z.url().max(500),
            client_id: z.string().min(1).max(500),
            client_secret: z.string().min(1).max(2000),
            default_role: GrantableRoleSchema.default("member"),
            role_mapping: RoleMappingSchema.nullable().optional(),
          }),
        ),
      },
      responses: { 201: jsonResponse(ConnectionSchema, "The new connection"), ...tenantErrors },
    }),
    async (c) =>
      c.json(
        await createSsoConnection({ ctx: serviceContext(c), input: c.req.valid("json") }),
        201,
      ),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/sso/connections/saml",
      operationId: "createSamlConnection",
      tags,
      summary:
        "Add a SAML connection from the IdP's metadata, by URL or as XML (off until enabled)",
      description:
        "Give exactly one of `metadata_url` (read now and on refresh) and `metadata_xml`. Enter the answer's `saml.sp` values at the IdP.",
      security,
      middleware: manage,
      request: {
        body: jsonBody(
          z
            .strictObject({
              name: z.string().trim().min(1).max(100),
              metadata_url: MetadataUrlSchema.optional(),
              metadata_xml: MetadataXmlSchema.optional(),
              default_role: GrantableRoleSchema.default("member"),
              role_mapping: RoleMappingSchema.nullable().optional(),
              allow_idp_initiated: z.boolean().default(false),
              groups_attribute: z.string().min(1).max(200).optional(),
            })
            .refine((b) => (b.metadata_url === undefined) !== (b.metadata_xml === undefined), {
              message: "give exactly one of metadata_url and metadata_xml",
              path: ["metadata_url"],
            }),
        ),
      },
      responses: {
        201: jsonResponse(ConnectionSchema, "The new connection"),
        422: invalidMetadata,
        ...tenantErrors,
      },
    }),
    async (c) => {
      const { metadata_url, metadata_xml, ...rest } = c.req.valid("json");
      const source =
        metadata_url !== undefined ? { metadata_url } : { metadata_xml: metadata_xml ?? "" };
      return c.json(
        await createSamlConnection({ ctx: serviceContext(c), input: { ...rest, ...source } }),
        201,
      );
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/sso/connections/{id}/metadata/refresh",
      operationId: "refreshSamlMetadata",
      tags,
      summary: "Re-read a SAML connection's metadata URL (certificates replaced at once; audited)",
      security,
      middleware: manage,
      request: { params: IdParamSchema },
      responses: {
        200: jsonResponse(ConnectionSchema, "The connection with the metadata just read"),
        409: conflictError,
        422: invalidMetadata,
        ...tenantErrors,
      },
    }),
    async (c) =>
      c.json(
        await refreshSamlMetadata({ ctx: serviceContext(c), input: c.req.valid("param") }),
        200,
      ),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/sso/connections/{id}",
      operationId: "getSsoConnection",
      tags,
      summary: "One SSO connection",
      security,
      middleware: manage,
      request: { params: IdParamSchema },
      responses: { 200: jsonResponse(ConnectionSchema, "The connection"), ...tenantErrors },
    }),
    async (c) =>
      c.json(await getSsoConnection({ ctx: serviceContext(c), input: c.req.valid("param") }), 200),
  )
  .openapi(
    createRoute({
      method: "patch",
      path: "/v1/sso/connections/{id}",
      operationId: "updateSsoConnection",
      tags,
      summary:
        "Rename, switch on or off, enforce, change the default role or rotate the client secret",
      security,
      middleware: manage,
      request: {
        params: IdParamSchema,
        body: jsonBody(
          z.strictObject({
            name: z.string().trim().min(1).max(100).optional(),
            enabled: z.boolean().optional(),
            enforced: z.boolean().optional(),
            default_role: GrantableRoleSchema.optional(),
            role_mapping: RoleMappingSchema.nullable().optional(),
            client_secret: z.string().min(1).max(2000).optional(),
            allow_idp_initiated: z.boolean().optional().openapi({ description: "SAML only" }),
            groups_attribute: z.string().min(1).max(200).optional().openapi({
              description: "SAML only",
            }),
            metadata_url: MetadataUrlSchema.optional().openapi({
              description: "SAML only: read the IdP metadata from here (and on refresh)",
            }),
            metadata_xml: MetadataXmlSchema.optional().openapi({
              description: "SAML only: replace the IdP metadata with this document",
            }),
          }),
        ),
      },
      responses: {
        200: jsonResponse(ConnectionSchema, "The connection after the change"),
        409: conflictError,
        422: invalidMetadata,
        ...tenantErrors,
      },
    }),
    async (c) =>
      c.json(
        await updateSsoConnection({
          ctx: serviceContext(c),
          input: { id: c.req.valid("param").id, change: c.req.valid("json") },
        }),
        200,
      ),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/sso/connections/{id}/test",
      operationId: "testSsoConnection",
      tags,
      summary:
        "Try the connection (on or off): the callback shows the ID token's claims, no session",
      security,
      middleware: manage,
      request: { params: IdParamSchema },
      responses: {
        200: jsonResponse(z.object({ authorization_url: z.string() }), "Where to send the browser"),
        ...tenantErrors,
      },
    }),
    async (c) =>
      c.json(await testSsoConnection({ ctx: serviceContext(c), input: c.req.valid("param") }), 200),
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/v1/sso/connections/{id}",
      operationId: "deleteSsoConnection",
      tags,
      summary: "Remove an SSO connection and its domains",
      security,
      middleware: manage,
      request: { params: IdParamSchema },
      responses: { 204: { description: "Removed" }, ...tenantErrors },
    }),
    async (c) => {
      await deleteSsoConnection({ ctx: serviceContext(c), input: c.req.valid("param") });
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/sso/connections/{id}/domains",
      operationId: "addSsoDomain",
      tags,
      summary: "Name an email domain the connection serves; publish the TXT record it answers",
      security,
      middleware: manage,
      request: {
        params: IdParamSchema,
        body: jsonBody(z.strictObject({ domain: DomainNameSchema })),
      },
      responses: {
        201: jsonResponse(DomainSchema, "The domain, unverified"),
        409: conflictError,
        ...tenantErrors,
      },
    }),
    async (c) =>
      c.json(
        await addSsoDomain({
          ctx: serviceContext(c),
          input: { id: c.req.valid("param").id, domain: c.req.valid("json").domain },
        }),
        201,
      ),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/sso/connections/{id}/domains/{domain}/verify",
      operationId: "verifySsoDomain",
      tags,
      summary:
        "Look the domain's TXT record up over DNS-over-HTTPS; verified when it holds the token",
      security,
      middleware: manage,
      request: { params: DomainParamsSchema },
      responses: {
        200: jsonResponse(DomainSchema, "The domain, verified"),
        409: conflictError,
        ...tenantErrors,
      },
    }),
    async (c) =>
      c.json(await verifySsoDomain({ ctx: serviceContext(c), input: c.req.valid("param") }), 200),
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/v1/sso/connections/{id}/domains/{domain}",
      operationId: "removeSsoDomain",
      tags,
      summary: "Stop serving a domain",
      security,
      middleware: manage,
      request: { params: DomainParamsSchema },
      responses: { 204: { description: "Removed" }, ...tenantErrors },
    }),
    async (c) => {
      await removeSsoDomain({ ctx: serviceContext(c), input: c.req.valid("param") });
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/auth/sso/discover",
      operationId: "discoverSso",
      tags,
      summary: "Home-realm discovery: whether this email signs in with SSO here",
      security: [],
      middleware: [resolveTenant] as const,
      request: { body: jsonBody(z.strictObject({ email: EmailSchema })) },
      responses: {
        200: jsonResponse(
          z.object({ sso: z.boolean(), connection_name: z.string().nullable() }),
          "Whether to offer SSO",
        ),
        ...tenantErrors,
      },
    }),
    async (c) =>
      c.json(await discoverSso({ ctx: tenantRequestContext(c), input: c.req.valid("json") }), 200),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/auth/sso/start",
      operationId: "startSso",
      tags,
      summary: "Start an SP-initiated OIDC sign-in (PKCE S256, state, nonce)",
      description:
        "Send the browser to `authorization_url`; the provider returns it to the tenant's `/sso/callback`.",
      security: [],
      middleware: [resolveTenant] as const,
      request: { body: jsonBody(z.strictObject({ email: EmailSchema })) },
      responses: {
        200: jsonResponse(z.object({ authorization_url: z.string() }), "Where to send the browser"),
        ...tenantErrors,
      },
    }),
    async (c) =>
      c.json(await startSso({ ctx: tenantRequestContext(c), input: c.req.valid("json") }), 200),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/auth/sso/callback",
      operationId: "finishSso",
      tags,
      summary: "Finish an SSO sign-in with the provider's state and code: an ordinary session",
      description:
        "Every refusal is the same 401; its reason is in the organisation's audit log (`sso.refuse`).",
      security: [],
      middleware: [resolveTenant] as const,
      request: {
        body: jsonBody(
          z.strictObject({ state: z.string().min(1).max(200), code: z.string().min(1).max(2000) }),
        ),
      },
      responses: {
        200: signedInOrTested,
        ...tenantErrors,
      },
    }),
    async (c) => {
      const r = await finishSso({ ctx: tenantRequestContext(c), input: c.req.valid("json") });
      return c.json("session" in r ? r.session : r, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/auth/sso/saml/{id}/metadata",
      operationId: "samlSpMetadata",
      tags,
      summary: "Our SAML service provider metadata for a connection (entity id, ACS URL)",
      description:
        "Public, as IdPs read it. The tenant app serves it at `https://<tenant host>/sso/saml/<id>/metadata`.",
      security: [],
      middleware: [resolveTenant] as const,
      request: { params: IdParamSchema },
      responses: {
        200: {
          description: "SAML 2.0 metadata (an SPSSODescriptor)",
          content: { "application/samlmetadata+xml": { schema: z.string() } },
        },
        ...tenantErrors,
      },
    }),
    async (c) =>
      c.body(
        await samlSpMetadata({ ctx: tenantRequestContext(c), input: c.req.valid("param") }),
        200,
        { "content-type": "application/samlmetadata+xml; charset=utf-8" },
      ),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/auth/sso/saml/{id}/acs",
      operationId: "finishSaml",
      tags,
      summary: "Finish a SAML sign-in with the IdP's POSTed SAMLResponse and RelayState",
      description:
        "The tenant app's ACS (`/sso/saml/<id>/acs`) passes the form values on. SP-initiated, or IdP-initiated when the connection allows it. Every refusal is the same 401; its reason is in the organisation's audit log (`sso.refuse`).",
      security: [],
      middleware: [resolveTenant] as const,
      request: {
        params: IdParamSchema,
        body: jsonBody(
          z.strictObject({
            saml_response: SamlResponseSchema,
            relay_state: z.string().max(200).nullable().default(null),
          }),
        ),
      },
      responses: {
        200: signedInOrTested,
        ...tenantErrors,
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const r = await finishSaml({
        ctx: tenantRequestContext(c),
        input: {
          connectionId: c.req.valid("param").id,
          samlResponse: body.saml_response,
          relayState: body.relay_state,
        },
      });
      return c.json("session" in r ? r.session : r, 200);
    },
  );
