import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { tenantId } from "../columns";

/**
 * The tenant's single sign-on connections (issue 12). `protocol` says which columns apply: the
 * OIDC ones today; SAML adds its own nullable columns (metadata, certificates) beside them, so a
 * connection's domains, role and switch stay one model for both protocols.
 */
export const ssoConnections = sqliteTable(
  "sso_connections",
  {
    id: text("id").primaryKey(),
    tenantId: tenantId(),
    protocol: text("protocol", { enum: ["oidc"] }).notNull(),
    name: text("name").notNull(),
    enabled: integer("enabled", { mode: "boolean" }).notNull().default(false),
    /** Enforce SSO: password sign-in and reset are refused for its verified domains (not owners). */
    enforced: integer("enforced", { mode: "boolean" }).notNull().default(false),
    /** The role a member created at their first SSO sign-in gets. */
    defaultRole: text("default_role").notNull(),
    issuer: text("issuer"),
    clientId: text("client_id"),
    /** AES-GCM ciphertext under SSO_ENCRYPTION_KEY (`v1.<iv>.<ciphertext>`), never the secret. */
    clientSecretEnc: text("client_secret_enc"),
    /** From the issuer's discovery document, read when the connection is saved. */
    authorizationEndpoint: text("authorization_endpoint"),
    tokenEndpoint: text("token_endpoint"),
    jwksUri: text("jwks_uri"),
    /**
     * JSON `{ claim, rules: [{ value, role }] }`: the role a sign-in's claims give (first rule
     * whose value the claim holds; none → the default role). Null: roles are managed here.
     */
    roleMapping: text("role_mapping"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("sso_connections_tenant_idx").on(t.tenantId)],
);

/**
 * An email domain a connection serves. It counts (home-realm discovery, enforcement) only once
 * `verified_at` is set: the TXT record `_tenantry-verify.<domain>` held the token.
 */
export const ssoDomains = sqliteTable(
  "sso_domains",
  {
    domain: text("domain").primaryKey(),
    tenantId: tenantId(),
    connectionId: text("connection_id").notNull(),
    verificationToken: text("verification_token").notNull(),
    verifiedAt: integer("verified_at"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    index("sso_domains_tenant_idx").on(t.tenantId),
    index("sso_domains_connection_idx").on(t.connectionId),
  ],
);

/**
 * One SP-initiated sign-in between the redirect to the provider and its callback: the state
 * (hashed), nonce and PKCE verifier stay here, server-side, and the callback consumes the row
 * once (`used_at`), so a state is never accepted twice.
 */
export const ssoLogins = sqliteTable(
  "sso_logins",
  {
    stateHash: text("state_hash").primaryKey(),
    tenantId: tenantId(),
    connectionId: text("connection_id").notNull(),
    /** `test`: an owner or admin trying the connection; the callback shows claims, signs nobody in. */
    purpose: text("purpose", { enum: ["sign_in", "test"] })
      .notNull()
      .default("sign_in"),
    nonce: text("nonce").notNull(),
    codeVerifier: text("code_verifier").notNull(),
    expiresAt: integer("expires_at").notNull(),
    usedAt: integer("used_at"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("sso_logins_tenant_idx").on(t.tenantId)],
);
