import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { tenantId } from "../columns";

/**
 * The tenant's single sign-on connections (issue 12). `protocol` says which columns apply: OIDC's
 * (issuer, client, endpoints) or SAML's (IdP entity id, SSO URL, certificates, metadata), all
 * nullable beside each other, so a connection's domains, role and switch stay one model.
 */
export const ssoConnections = sqliteTable(
  "sso_connections",
  {
    id: text("id").primaryKey(),
    tenantId: tenantId(),
    protocol: text("protocol", { enum: ["oidc", "saml"] }).notNull(),
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
    /** SAML: the IdP's entityID, the Issuer its responses must carry. */
    idpEntityId: text("idp_entity_id"),
    /** SAML: the IdP's SingleSignOnService for the HTTP-Redirect binding (AuthnRequests go here). */
    idpSsoUrl: text("idp_sso_url"),
    /** SAML: the IdP's signing certificates (base64 DER), several at once during a rollover. */
    idpCertificates: text("idp_certificates", { mode: "json" }).$type<string[]>(),
    /** SAML: where the IdP metadata was read from (null when uploaded), and when. */
    metadataUrl: text("metadata_url"),
    metadataFetchedAt: integer("metadata_fetched_at"),
    /** SAML: accept unsolicited (IdP-initiated) responses; off unless an owner turns it on. */
    allowIdpInitiated: integer("allow_idp_initiated", { mode: "boolean" }).notNull().default(false),
    /** SAML: the attribute carrying the user's groups (null: `groups`). */
    groupsAttribute: text("groups_attribute"),
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
    /** SAML: the AuthnRequest ID, the InResponseTo the response must carry (nonce and verifier are empty). */
    samlRequestId: text("saml_request_id"),
    expiresAt: integer("expires_at").notNull(),
    usedAt: integer("used_at"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("sso_logins_tenant_idx").on(t.tenantId)],
);

/**
 * SAML assertion ids already accepted, kept until the assertion could no longer be accepted
 * anyway (`expires_at`): a replayed response finds its id here. Inserting is the atomic
 * "first use" check (the primary key); expired rows are deleted in the same step.
 */
export const samlAssertions = sqliteTable(
  "saml_assertions",
  {
    assertionId: text("assertion_id").primaryKey(),
    tenantId: tenantId(),
    connectionId: text("connection_id").notNull(),
    expiresAt: integer("expires_at").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    index("saml_assertions_tenant_idx").on(t.tenantId),
    index("saml_assertions_expires_idx").on(t.expiresAt),
  ],
);
