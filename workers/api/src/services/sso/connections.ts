import { auditEntry, tenantDb } from "@tenantry/core";
import { randomSecret } from "@tenantry/core/crypto";
import { newId } from "@tenantry/schema";
import { ssoConnections, ssoDomains } from "@tenantry/schema/tenant";
import { and, eq } from "drizzle-orm";
import type { ServiceContext, TenantRequestContext } from "../../context";
import { config, type Env } from "../../env";
import {
  ConflictError,
  NotFoundError,
  ServiceUnavailableError,
  ValidationError,
} from "../../errors";
import { seal } from "../../lib/secret-box";
import type { Role } from "../../rbac/permissions";
import { requireRecentMfa } from "../mfa";
import { tenantUrl } from "../registry";
import { discover } from "./discovery";
import { resolveTxt } from "./dns";
import type { SsoConnection, SsoDomain } from "./model";
import { parseRoleMapping, type RoleMapping } from "./role-mapping";
import {
  describeCertificates,
  fetchIdpMetadata,
  type IdpMetadata,
  parseIdpMetadata,
  spMetadataXml,
  spValues,
} from "./saml-metadata";

/** The DNS name whose TXT record proves a domain: `_tenantry-verify.<domain>`. */
export const verificationRecord = (domain: string) => `_tenantry-verify.${domain}`;

/** Where the provider sends the browser back: the tenant app's callback on the tenant's host. */
export function redirectUri(env: Env, slug: string): string {
  return `${tenantUrl(config(env), slug)}/sso/callback`;
}

export function encryptionKey(env: Env): string {
  const key = config(env).SSO_ENCRYPTION_KEY;
  if (!key)
    throw new ServiceUnavailableError(
      "sso_not_configured",
      "SSO is not configured on this platform (SSO_ENCRYPTION_KEY is not set).",
    );
  return key;
}

function domainView(d: SsoDomain) {
  return {
    domain: d.domain,
    verified: d.verifiedAt !== null,
    verified_at: d.verifiedAt ? new Date(d.verifiedAt).toISOString() : null,
    verification: {
      type: "TXT" as const,
      name: verificationRecord(d.domain),
      value: d.verificationToken,
    },
  };
}

/** A SAML connection's side as the API shows it: the IdP's values and ours to give the IdP. */
async function samlView(ctx: ServiceContext, c: SsoConnection) {
  if (c.protocol !== "saml") return null;
  const sp = spValues(ctx.env, ctx.tenant.slug, c.id);
  return {
    idp_entity_id: c.idpEntityId ?? "",
    idp_sso_url: c.idpSsoUrl ?? "",
    certificates: await describeCertificates(c.idpCertificates ?? []),
    metadata_url: c.metadataUrl,
    metadata_fetched_at: c.metadataFetchedAt ? new Date(c.metadataFetchedAt).toISOString() : null,
    allow_idp_initiated: c.allowIdpInitiated,
    groups_attribute: c.groupsAttribute ?? "groups",
    sp: { entity_id: sp.entityId, acs_url: sp.acsUrl, metadata_url: sp.metadataUrl },
  };
}

/** A connection as the API shows it: the client secret never leaves, only whether it is set. */
async function connectionView(ctx: ServiceContext, c: SsoConnection, domains: SsoDomain[]) {
  return {
    id: c.id,
    protocol: c.protocol,
    name: c.name,
    enabled: c.enabled,
    enforced: c.enforced,
    default_role: c.defaultRole as Role,
    role_mapping: parseRoleMapping(c.roleMapping),
    issuer: c.issuer ?? "",
    client_id: c.clientId ?? "",
    client_secret_set: c.clientSecretEnc !== null,
    redirect_uri: redirectUri(ctx.env, ctx.tenant.slug),
    domains: domains.filter((d) => d.connectionId === c.id).map(domainView),
    saml: await samlView(ctx, c),
    created_at: new Date(c.createdAt).toISOString(),
    updated_at: new Date(c.updatedAt).toISOString(),
  };
}
export type SsoConnectionView = Awaited<ReturnType<typeof connectionView>>;

/** What an audit snapshot records of a connection: everything but the secret (certificates by fingerprint). */
const snapshot = async (c: SsoConnection) => ({
  name: c.name,
  enabled: c.enabled,
  enforced: c.enforced,
  default_role: c.defaultRole,
  role_mapping: parseRoleMapping(c.roleMapping),
  ...(c.protocol === "saml"
    ? {
        idp_entity_id: c.idpEntityId,
        idp_sso_url: c.idpSsoUrl,
        certificates: (await describeCertificates(c.idpCertificates ?? [])).map((d) => d.sha256),
        metadata_url: c.metadataUrl,
        allow_idp_initiated: c.allowIdpInitiated,
        groups_attribute: c.groupsAttribute,
      }
    : { issuer: c.issuer, client_id: c.clientId }),
});

export async function findConnection(ctx: ServiceContext, id: string) {
  const row = await ctx.db.orm.select().from(ssoConnections).where(eq(ssoConnections.id, id)).get();
  if (!row) throw new NotFoundError("SSO connection");
  return row;
}

export async function listSsoConnections({ ctx }: { ctx: ServiceContext }) {
  const [rows, domains] = await Promise.all([
    ctx.db.orm.select().from(ssoConnections).orderBy(ssoConnections.id).all(),
    ctx.db.orm.select().from(ssoDomains).orderBy(ssoDomains.domain).all(),
  ]);
  return { data: await Promise.all(rows.map((c) => connectionView(ctx, c, domains))) };
}

export async function getSsoConnection({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { id: string };
}) {
  const row = await findConnection(ctx, input.id);
  const domains = await ctx.db.orm
    .select()
    .from(ssoDomains)
    .where(eq(ssoDomains.connectionId, row.id))
    .all();
  return connectionView(ctx, row, domains);
}

/** Our SAML service provider metadata for the connection (public: the IdP or its admin reads it). */
export async function samlSpMetadata({
  ctx,
  input,
}: {
  ctx: TenantRequestContext;
  input: { id: string };
}) {
  const row = await tenantDb(ctx.env, ctx.tenant)
    .orm.select({ protocol: ssoConnections.protocol })
    .from(ssoConnections)
    .where(eq(ssoConnections.id, input.id))
    .get();
  if (row?.protocol !== "saml") throw new NotFoundError("SAML connection");
  return spMetadataXml(spValues(ctx.env, ctx.tenant.slug, input.id));
}

const NO_SAML = {
  idpEntityId: null,
  idpSsoUrl: null,
  idpCertificates: null,
  metadataUrl: null,
  metadataFetchedAt: null,
  allowIdpInitiated: false,
  groupsAttribute: null,
} satisfies Partial<SsoConnection>;

/** Stores a new connection with its audit entry, in one batch. */
async function insertConnection(ctx: ServiceContext, row: SsoConnection) {
  await ctx.db.orm.batch([
    ctx.db.orm.insert(ssoConnections).values(row),
    auditEntry(ctx, {
      action: "sso_connection.create",
      target: { type: "sso_connection", id: row.id },
      after: await snapshot(row),
    }),
  ]);
  return connectionView(ctx, row, []);
}

/** IdP metadata given as a URL (read now, and again on refresh) or as the XML itself. */
export type MetadataSource = { metadata_url: string } | { metadata_xml: string };

/** The connection columns the metadata sets; a URL is remembered for refresh, an upload clears it. */
async function readMetadata(ctx: ServiceContext, source: MetadataSource) {
  const url = "metadata_url" in source ? source.metadata_url : null;
  const found: IdpMetadata = url
    ? await fetchIdpMetadata(ctx.env, url)
    : await parseIdpMetadata((source as { metadata_xml: string }).metadata_xml);
  return {
    idpEntityId: found.entityId,
    idpSsoUrl: found.ssoUrl,
    idpCertificates: found.certificates,
    metadataUrl: url,
    metadataFetchedAt: Date.now(),
  };
}

export type SamlConnectionInput = MetadataSource & {
  name: string;
  default_role: Role;
  role_mapping?: RoleMapping | null | undefined;
  allow_idp_initiated: boolean;
  groups_attribute?: string | undefined;
};

/**
 * Adds a SAML connection from the IdP's metadata, switched off until an owner turns it on; like
 * every SSO configuration change, after a recent second factor.
 */
export async function createSamlConnection({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: SamlConnectionInput;
}) {
  await requireRecentMfa(ctx);
  const now = Date.now();
  const row: SsoConnection = {
    id: newId("ssoConnection"),
    tenantId: ctx.tenant.id,
    protocol: "saml",
    name: input.name,
    enabled: false,
    enforced: false,
    defaultRole: input.default_role,
    issuer: null,
    clientId: null,
    clientSecretEnc: null,
    authorizationEndpoint: null,
    tokenEndpoint: null,
    jwksUri: null,
    roleMapping: input.role_mapping ? JSON.stringify(input.role_mapping) : null,
    ...(await readMetadata(ctx, input)),
    allowIdpInitiated: input.allow_idp_initiated,
    groupsAttribute: input.groups_attribute ?? null,
    createdAt: now,
    updatedAt: now,
  };
  return insertConnection(ctx, row);
}

export interface OidcConnectionInput {
  name: string;
  issuer: string;
  client_id: string;
  client_secret: string;
  default_role: Role;
  role_mapping?: RoleMapping | null | undefined;
}

/**
 * Adds an OIDC connection, switched off until an owner or admin turns it on. This and every other
 * change of SSO configuration decides who can sign in: a recent second factor first (ADR 023).
 */
export async function createSsoConnection({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: OidcConnectionInput;
}) {
  await requireRecentMfa(ctx);
  const key = encryptionKey(ctx.env);
  const found = await discover(ctx.env, input.issuer);
  const now = Date.now();
  const row: SsoConnection = {
    id: newId("ssoConnection"),
    tenantId: ctx.tenant.id,
    protocol: "oidc",
    name: input.name,
    enabled: false,
    enforced: false,
    defaultRole: input.default_role,
    issuer: input.issuer,
    clientId: input.client_id,
    clientSecretEnc: null,
    authorizationEndpoint: found.authorization_endpoint,
    tokenEndpoint: found.token_endpoint,
    jwksUri: found.jwks_uri,
    roleMapping: input.role_mapping ? JSON.stringify(input.role_mapping) : null,
    ...NO_SAML,
    createdAt: now,
    updatedAt: now,
  };
  row.clientSecretEnc = await seal(key, `${ctx.tenant.id}:${row.id}`, input.client_secret);
  return insertConnection(ctx, row);
}

export interface SsoConnectionChange {
  name?: string | undefined;
  enabled?: boolean | undefined;
  enforced?: boolean | undefined;
  default_role?: Role | undefined;
  /** Null removes the mapping; absent leaves it. */
  role_mapping?: RoleMapping | null | undefined;
  client_secret?: string | undefined;
  /** SAML only, as are the next three. */
  allow_idp_initiated?: boolean | undefined;
  groups_attribute?: string | undefined;
  metadata_url?: string | undefined;
  metadata_xml?: string | undefined;
}

const SAML_ONLY = ["allow_idp_initiated", "groups_attribute", "metadata_url", "metadata_xml"];

/**
 * Renames, switches, changes the default role or role mapping, rotates the secret or (SAML)
 * changes the metadata; audited with before/after. Each is an SSO configuration change: a
 * recent second factor first.
 */
export async function updateSsoConnection({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { id: string; change: SsoConnectionChange };
}) {
  await requireRecentMfa(ctx);
  const before = await findConnection(ctx, input.id);
  const { change } = input;
  const misplaced = Object.keys(change).filter((k) =>
    before.protocol === "saml" ? k === "client_secret" : SAML_ONLY.includes(k),
  );
  if (misplaced.length)
    throw new ValidationError(
      `Not a setting of ${before.protocol.toUpperCase()} connections: ${misplaced.join(", ")}.`,
      misplaced.map((k) => ({ path: `body.${k}`, message: `not for ${before.protocol}` })),
    );
  const metadata =
    change.metadata_url !== undefined
      ? await readMetadata(ctx, { metadata_url: change.metadata_url })
      : change.metadata_xml !== undefined
        ? await readMetadata(ctx, { metadata_xml: change.metadata_xml })
        : {};
  const after: SsoConnection = {
    ...before,
    ...metadata,
    allowIdpInitiated: change.allow_idp_initiated ?? before.allowIdpInitiated,
    groupsAttribute: change.groups_attribute ?? before.groupsAttribute,
    name: change.name ?? before.name,
    enabled: change.enabled ?? before.enabled,
    enforced: change.enforced ?? before.enforced,
    defaultRole: change.default_role ?? before.defaultRole,
    roleMapping:
      change.role_mapping === undefined
        ? before.roleMapping
        : change.role_mapping && JSON.stringify(change.role_mapping),
    clientSecretEnc:
      change.client_secret === undefined
        ? before.clientSecretEnc
        : await seal(encryptionKey(ctx.env), `${ctx.tenant.id}:${before.id}`, change.client_secret),
    updatedAt: Date.now(),
  };
  return saveChange(ctx, before, after, "sso_connection.update", {
    secret_rotated: change.client_secret !== undefined,
  });
}

/**
 * Writes a changed connection with its audit entry (before/after) in one batch, conditional on
 * the row it read: a concurrent change makes this a 409, not a lost update.
 */
async function saveChange(
  ctx: ServiceContext,
  before: SsoConnection,
  after: SsoConnection,
  action: "sso_connection.update" | "sso_connection.metadata_refresh",
  extra: Record<string, unknown> = {},
) {
  const [updated] = await ctx.db.orm.batch([
    ctx.db.orm
      .update(ssoConnections)
      .set(after)
      .where(and(eq(ssoConnections.id, before.id), eq(ssoConnections.updatedAt, before.updatedAt)))
      .returning({ id: ssoConnections.id }),
    auditEntry(ctx, {
      action,
      target: { type: "sso_connection", id: before.id },
      before: await snapshot(before),
      after: { ...(await snapshot(after)), ...extra },
    }),
  ]);
  if (updated.length !== 1)
    throw new ConflictError(
      "concurrent_change",
      "The connection changed meanwhile; reload and retry.",
    );
  return getSsoConnection({ ctx, input: { id: before.id } });
}

/**
 * Re-reads a SAML connection's metadata URL: entity id, SSO URL and the whole certificate list
 * are replaced in one conditional write (an IdP's rollover: a new certificate appears, later the
 * old one goes). Audited with the fingerprints before and after.
 */
export async function refreshSamlMetadata({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { id: string };
}) {
  await requireRecentMfa(ctx);
  const before = await findConnection(ctx, input.id);
  if (before.protocol !== "saml" || !before.metadataUrl)
    throw new ConflictError(
      "no_metadata_url",
      "Only a SAML connection configured from a metadata URL can refresh it.",
    );
  const after = {
    ...before,
    ...(await readMetadata(ctx, { metadata_url: before.metadataUrl })),
    updatedAt: Date.now(),
  };
  return saveChange(ctx, before, after, "sso_connection.metadata_refresh");
}

export async function deleteSsoConnection({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { id: string };
}) {
  await requireRecentMfa(ctx);
  const row = await findConnection(ctx, input.id);
  await ctx.db.orm.batch([
    ctx.db.orm.delete(ssoDomains).where(eq(ssoDomains.connectionId, row.id)),
    ctx.db.orm.delete(ssoConnections).where(eq(ssoConnections.id, row.id)),
    auditEntry(ctx, {
      action: "sso_connection.delete",
      target: { type: "sso_connection", id: row.id },
      before: await snapshot(row),
    }),
  ]);
}

/** Names a domain the connection serves; it counts once its TXT record is verified. */
export async function addSsoDomain({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { id: string; domain: string };
}) {
  await requireRecentMfa(ctx);
  const connection = await findConnection(ctx, input.id);
  const row: SsoDomain = {
    domain: input.domain,
    tenantId: ctx.tenant.id,
    connectionId: connection.id,
    verificationToken: `tenantry-verify=${randomSecret(24)}`,
    verifiedAt: null,
    createdAt: Date.now(),
  };
  // One insert that a second connection claiming the same domain cannot also win.
  const [inserted] = await ctx.db.orm.batch([
    ctx.db.orm
      .insert(ssoDomains)
      .values(row)
      .onConflictDoNothing()
      .returning({ d: ssoDomains.domain }),
    auditEntry(ctx, {
      action: "sso_domain.add",
      target: { type: "sso_connection", id: connection.id },
      after: { domain: row.domain },
    }),
  ]);
  if (inserted.length !== 1)
    throw new ConflictError(
      "domain_taken",
      `${input.domain} is already named by a connection of this organisation.`,
    );
  return domainView(row);
}

async function findDomain(ctx: ServiceContext, id: string, domain: string) {
  const row = await ctx.db.orm
    .select()
    .from(ssoDomains)
    .where(and(eq(ssoDomains.domain, domain), eq(ssoDomains.connectionId, id)))
    .get();
  if (!row) throw new NotFoundError("domain");
  return row;
}

/**
 * Looks the domain's TXT record up through the resolver seam; the domain is verified when one of
 * its values is the token. Not found yet is a 409 that says which record to publish.
 */
export async function verifySsoDomain({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { id: string; domain: string };
}) {
  await requireRecentMfa(ctx);
  const row = await findDomain(ctx, input.id, input.domain);
  if (row.verifiedAt !== null) return domainView(row);
  const values = await resolveTxt(ctx.env, verificationRecord(row.domain));
  if (!values.includes(row.verificationToken))
    throw new ConflictError(
      "domain_not_verified",
      `No TXT record ${verificationRecord(row.domain)} with the value ${row.verificationToken} was found. Publish it and retry (DNS changes can take minutes).`,
    );
  const verified = { ...row, verifiedAt: Date.now() };
  await ctx.db.orm.batch([
    ctx.db.orm
      .update(ssoDomains)
      .set({ verifiedAt: verified.verifiedAt })
      .where(eq(ssoDomains.domain, row.domain)),
    auditEntry(ctx, {
      action: "sso_domain.verify",
      target: { type: "sso_connection", id: row.connectionId },
      after: { domain: row.domain },
    }),
  ]);
  return domainView(verified);
}

export async function removeSsoDomain({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { id: string; domain: string };
}) {
  await requireRecentMfa(ctx);
  const row = await findDomain(ctx, input.id, input.domain);
  await ctx.db.orm.batch([
    ctx.db.orm.delete(ssoDomains).where(eq(ssoDomains.domain, row.domain)),
    auditEntry(ctx, {
      action: "sso_domain.remove",
      target: { type: "sso_connection", id: row.connectionId },
      before: { domain: row.domain },
    }),
  ]);
}
