import { auditEntry } from "@tenantry/core";
import { randomSecret } from "@tenantry/core/crypto";
import { newId } from "@tenantry/schema";
import { ssoConnections, ssoDomains } from "@tenantry/schema/tenant";
import { and, eq } from "drizzle-orm";
import type { ServiceContext } from "../../context";
import { config, type Env } from "../../env";
import { ConflictError, NotFoundError, ServiceUnavailableError } from "../../errors";
import { seal } from "../../lib/secret-box";
import type { Role } from "../../rbac/permissions";
import { requireRecentMfa } from "../mfa";
import { tenantUrl } from "../registry";
import { discover } from "./discovery";
import { resolveTxt } from "./dns";
import { parseRoleMapping, type RoleMapping } from "./role-mapping";
import { authorizationUrl } from "./sign-in";

export type SsoConnection = typeof ssoConnections.$inferSelect;
type SsoDomain = typeof ssoDomains.$inferSelect;

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

/** A connection as the API shows it: the client secret never leaves, only whether it is set. */
function connectionView(ctx: ServiceContext, c: SsoConnection, domains: SsoDomain[]) {
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
    created_at: new Date(c.createdAt).toISOString(),
    updated_at: new Date(c.updatedAt).toISOString(),
  };
}
export type SsoConnectionView = ReturnType<typeof connectionView>;

/** What an audit snapshot records of a connection: everything but the secret. */
const snapshot = (c: SsoConnection) => ({
  name: c.name,
  enabled: c.enabled,
  enforced: c.enforced,
  default_role: c.defaultRole,
  role_mapping: parseRoleMapping(c.roleMapping),
  issuer: c.issuer,
  client_id: c.clientId,
});

async function findConnection(ctx: ServiceContext, id: string) {
  const row = await ctx.db.orm.select().from(ssoConnections).where(eq(ssoConnections.id, id)).get();
  if (!row) throw new NotFoundError("SSO connection");
  return row;
}

export async function listSsoConnections({ ctx }: { ctx: ServiceContext }) {
  const [rows, domains] = await Promise.all([
    ctx.db.orm.select().from(ssoConnections).orderBy(ssoConnections.id).all(),
    ctx.db.orm.select().from(ssoDomains).orderBy(ssoDomains.domain).all(),
  ]);
  return { data: rows.map((c) => connectionView(ctx, c, domains)) };
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
    createdAt: now,
    updatedAt: now,
  };
  row.clientSecretEnc = await seal(key, `${ctx.tenant.id}:${row.id}`, input.client_secret);
  await ctx.db.orm.batch([
    ctx.db.orm.insert(ssoConnections).values(row),
    auditEntry(ctx, {
      action: "sso_connection.create",
      target: { type: "sso_connection", id: row.id },
      after: snapshot(row),
    }),
  ]);
  return connectionView(ctx, row, []);
}

export interface SsoConnectionChange {
  name?: string | undefined;
  enabled?: boolean | undefined;
  enforced?: boolean | undefined;
  default_role?: Role | undefined;
  /** Null removes the mapping; absent leaves it. */
  role_mapping?: RoleMapping | null | undefined;
  client_secret?: string | undefined;
}

/**
 * Renames, switches, changes the default role or role mapping, or rotates the secret; audited
 * with before/after. Each is an SSO configuration change: a recent second factor first.
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
  const after: SsoConnection = {
    ...before,
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
  // Conditional on the row it read: a concurrent change makes this a 409, not a lost update.
  const [updated] = await ctx.db.orm.batch([
    ctx.db.orm
      .update(ssoConnections)
      .set(after)
      .where(and(eq(ssoConnections.id, before.id), eq(ssoConnections.updatedAt, before.updatedAt)))
      .returning({ id: ssoConnections.id }),
    auditEntry(ctx, {
      action: "sso_connection.update",
      target: { type: "sso_connection", id: before.id },
      before: snapshot(before),
      after: { ...snapshot(after), secret_rotated: change.client_secret !== undefined },
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
 * Starts a test sign-in with the connection, on or off: the callback shows the ID token's
 * claims (and whether the email's domain is served) instead of signing anyone in.
 */
export async function testSsoConnection({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { id: string };
}) {
  const connection = await findConnection(ctx, input.id);
  return { authorization_url: await authorizationUrl(ctx, connection, "test") };
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
      before: snapshot(row),
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
