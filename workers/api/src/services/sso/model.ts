import type { ssoConnections, ssoDomains } from "@tenantry/schema/tenant";

/** A connection row; `protocol` says which of its columns apply (OIDC's or SAML's). */
export type SsoConnection = typeof ssoConnections.$inferSelect;
/** An email domain a connection serves, once verified. */
export type SsoDomain = typeof ssoDomains.$inferSelect;
