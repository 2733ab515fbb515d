/**
 * Every route of the API worker, with a valid body for each. The security suite and the bad-input
 * suite run over these lists, and a test fails when the OpenAPI document has a route missing here.
 */

import { SAML_IDP_HOST } from "../../../tests/saml-idp";
import type { Permission } from "../src/rbac/permissions";
import {
  addMember,
  addNotification,
  addOverride,
  api,
  createApiKey,
  createTenant,
  markEmailVerified,
  type TestTenant,
} from "./helpers";
import { createProductResources, PRODUCT_ROUTES, type ProductResource } from "./product-routes";
import { enabledConnection, IDP_ISSUER } from "./sso-helpers";

export type Resource =
  | "member"
  | "invitation"
  | "apiKey"
  | "scimToken"
  | "notification"
  | "ssoConnection"
  | "ssoDomain"
  | ProductResource;

export interface RouteCase {
  method: string;
  path: string;
  /** null: any authenticated actor of the tenant may call it. */
  permission: Permission | null;
  body?: () => unknown;
}

export const ROUTES: RouteCase[] = [
  { method: "GET", path: "/v1/me", permission: null },
  { method: "POST", path: "/v1/auth/logout", permission: null },
  { method: "POST", path: "/v1/auth/handoff", permission: null },
  { method: "POST", path: "/v1/auth/verify-email/resend", permission: null },
  { method: "GET", path: "/v1/me/mfa", permission: null },
  { method: "POST", path: "/v1/me/mfa/enrol", permission: null },
  {
    method: "POST",
    path: "/v1/me/mfa/confirm",
    permission: null,
    body: () => ({ code: "000000" }),
  },
  { method: "POST", path: "/v1/me/mfa/verify", permission: null, body: () => ({ code: "000000" }) },
  {
    method: "POST",
    path: "/v1/me/mfa/recovery-codes",
    permission: null,
    body: () => ({ code: "000000" }),
  },
  {
    method: "POST",
    path: "/v1/me/mfa/disable",
    permission: null,
    body: () => ({ code: "000000" }),
  },
  { method: "GET", path: "/v1/members", permission: "members:read" },
  {
    method: "PATCH",
    path: "/v1/members/{member}",
    permission: "members:manage",
    body: () => ({ role: "viewer" }),
  },
  { method: "DELETE", path: "/v1/members/{member}", permission: "members:manage" },
  {
    method: "POST",
    path: "/v1/invitations",
    permission: "invitations:manage",
    body: () => ({ email: `new-${crypto.randomUUID()}@example.com`, role: "viewer" }),
  },
  { method: "GET", path: "/v1/invitations", permission: "invitations:read" },
  { method: "DELETE", path: "/v1/invitations/{invitation}", permission: "invitations:manage" },
  {
    method: "POST",
    path: "/v1/api-keys",
    permission: "api_keys:manage",
    body: () => ({ name: "k", permissions: ["members:read"] }),
  },
  { method: "GET", path: "/v1/api-keys", permission: "api_keys:read" },
  { method: "DELETE", path: "/v1/api-keys/{apiKey}", permission: "api_keys:manage" },
  { method: "GET", path: "/v1/me/api-keys", permission: null },
  { method: "DELETE", path: "/v1/me/api-keys/{apiKey}", permission: null },
  // Owners only beyond the permission (the verbs check the role); the plan needs `sso`.
  {
    method: "POST",
    path: "/v1/scim-tokens",
    permission: "settings:manage",
    body: () => ({ name: "Okta" }),
  },
  { method: "GET", path: "/v1/scim-tokens", permission: "settings:manage" },
  { method: "DELETE", path: "/v1/scim-tokens/{scimToken}", permission: "settings:manage" },
  { method: "GET", path: "/v1/audit-log", permission: "audit:read" },
  { method: "GET", path: "/v1/audit-log/export", permission: "audit:read" },
  { method: "GET", path: "/v1/settings", permission: "settings:read" },
  {
    method: "PATCH",
    path: "/v1/settings",
    permission: "settings:manage",
    body: () => ({ accent_color: "#0b57d0" }),
  },
  { method: "GET", path: "/v1/settings/security", permission: "settings:read" },
  {
    method: "PATCH",
    path: "/v1/settings/security",
    permission: "settings:manage",
    body: () => ({ require_mfa: false }),
  },
  { method: "GET", path: "/v1/settings/logo", permission: "settings:read" },
  // The body is an image, not JSON: every refusal here comes before it is read.
  { method: "PUT", path: "/v1/settings/logo", permission: "settings:manage" },
  { method: "DELETE", path: "/v1/settings/logo", permission: "settings:manage" },
  { method: "GET", path: "/v1/billing", permission: "billing:read" },
  { method: "GET", path: "/v1/entitlements", permission: "settings:read" },
  { method: "GET", path: "/v1/plans", permission: null },
  {
    method: "POST",
    path: "/v1/billing/checkout",
    permission: "billing:manage",
    body: () => ({ plan: "pro", interval: "month" }),
  },
  { method: "POST", path: "/v1/billing/portal", permission: "billing:manage" },
  {
    method: "POST",
    path: "/v1/usage/events",
    permission: "usage:write",
    body: () => ({
      events: [
        {
          id: `e-${crypto.randomUUID()}`,
          metric: "events",
          value: 1,
          timestamp: new Date().toISOString(),
        },
      ],
    }),
  },
  { method: "GET", path: "/v1/usage?metric=events", permission: "usage:read" },
  { method: "GET", path: "/v1/notifications", permission: null },
  { method: "POST", path: "/v1/notifications/read-all", permission: null },
  { method: "POST", path: "/v1/notifications/{notification}/read", permission: null },
  { method: "GET", path: "/v1/sso/connections", permission: "settings:manage" },
  {
    method: "POST",
    path: "/v1/sso/connections",
    permission: "settings:manage",
    body: () => ({
      name: "IdP",
      issuer: IDP_ISSUER,
      client_id: "client",
      client_secret: "secret",
    }),
  },
  {
    method: "POST",
    path: "/v1/sso/connections/saml",
    permission: "settings:manage",
    body: () => ({ name: "SAML IdP", metadata_url: `https://${SAML_IDP_HOST}/routes/metadata` }),
  },
  {
    // The fixture's connection is OIDC: an allowed caller gets a 409 (no metadata URL).
    method: "POST",
    path: "/v1/sso/connections/{ssoConnection}/metadata/refresh",
    permission: "settings:manage",
  },
  { method: "GET", path: "/v1/sso/connections/{ssoConnection}", permission: "settings:manage" },
  {
    method: "PATCH",
    path: "/v1/sso/connections/{ssoConnection}",
    permission: "settings:manage",
    body: () => ({ name: "Renamed" }),
  },
  { method: "DELETE", path: "/v1/sso/connections/{ssoConnection}", permission: "settings:manage" },
  {
    method: "POST",
    path: "/v1/sso/connections/{ssoConnection}/test",
    permission: "settings:manage",
  },
  {
    method: "POST",
    path: "/v1/sso/connections/{ssoConnection}/domains",
    permission: "settings:manage",
    body: () => ({ domain: `d-${crypto.randomUUID().slice(0, 8)}.example` }),
  },
  {
    method: "POST",
    path: "/v1/sso/connections/{ssoConnection}/domains/{ssoDomain}/verify",
    permission: "settings:manage",
  },
  {
    method: "DELETE",
    path: "/v1/sso/connections/{ssoConnection}/domains/{ssoDomain}",
    permission: "settings:manage",
  },
  ...PRODUCT_ROUTES,
];

/** Tenant routes that take no credential (they prove identity otherwise); tenant checks only. */
export const PUBLIC_TENANT_ROUTES: { method: string; path: string; body?: unknown }[] = [
  // Checkout's success redirect: a browser arrives without a credential.
  { method: "GET", path: "/v1/billing/checkout/complete" },
  { method: "POST", path: "/v1/auth/login", body: { email: "a@b.example", password: "x" } },
  {
    method: "POST",
    path: "/v1/auth/login/mfa",
    body: { challenge: "x", code: "000000" },
  },
  { method: "POST", path: "/v1/auth/refresh", body: { refresh_token: "ses_x.y" } },
  { method: "POST", path: "/v1/auth/verify-email", body: { token: "x" } },
  { method: "POST", path: "/v1/auth/handoff/redeem", body: { code: "ses_x.y" } },
  { method: "POST", path: "/v1/auth/password-reset", body: { email: "a@b.example" } },
  {
    method: "POST",
    path: "/v1/auth/password-reset/confirm",
    body: { token: "x", password: "long enough password" },
  },
  { method: "POST", path: "/v1/invitations/preview", body: { token: "x" } },
  { method: "POST", path: "/v1/auth/sso/discover", body: { email: "a@b.example" } },
  { method: "POST", path: "/v1/auth/sso/start", body: { email: "a@b.example" } },
  { method: "POST", path: "/v1/auth/sso/callback", body: { state: "x", code: "y" } },
  { method: "GET", path: "/v1/auth/sso/saml/{ssoConnection}/metadata" },
  {
    method: "POST",
    path: "/v1/auth/sso/saml/{ssoConnection}/acs",
    body: { saml_response: "PHg+", relay_state: null },
  },
  {
    method: "POST",
    path: "/v1/invitations/accept",
    body: { token: "x", password: "long enough password" },
  },
];
export const APEX_ROUTES = [
  { method: "POST", path: "/v1/signup", body: {} },
  { method: "POST", path: "/v1/signup/confirm", body: { token: "x" } },
  { method: "GET", path: "/v1/slugs/{slug}" },
];
export const SYSTEM_ROUTES = [
  { method: "GET", path: "/healthz" },
  { method: "GET", path: "/healthz/detail" },
  { method: "GET", path: "/.well-known/audit-keys" },
];

/** A route's path as the OpenAPI document names it: parameters as `{}`, no query string. */
export const normalise = (p: string) => (p.split("?")[0] ?? p).replace(/\{\w+\}/g, "{}");

export function fill(path: string, ids: Record<Resource, string>): string {
  return path.replace(/\{(\w+)\}/g, (_, name: Resource) => ids[name]);
}

export type Fixture = TestTenant & { ids: Record<Resource, string> };

/** A tenant with one of each resource, for routes that take an id. */
export async function createFixture(): Promise<Fixture> {
  const t = await createTenant();
  await markEmailVerified(t.owner.id);
  const member = await addMember(t, "viewer");
  const invitation = await api("POST", "/v1/invitations", {
    slug: t.slug,
    token: t.owner.token,
    body: { email: `invitee-${t.slug}@example.com`, role: "member" },
  });
  const key = await createApiKey(t, ["members:read"]);
  await addOverride(t, { type: "feature", key: "sso", value: true, reason: "SCIM routes" });
  const scimToken = await api("POST", "/v1/scim-tokens", {
    slug: t.slug,
    token: t.owner.token,
    body: { name: "IdP" },
  });
  const notification = await addNotification(t);
  const sso = await enabledConnection(t);
  return {
    ...t,
    ids: {
      member: member.memberId,
      invitation: invitation.body.id,
      apiKey: key.id,
      scimToken: scimToken.body.id,
      notification,
      ssoConnection: sso.connection.id,
      ssoDomain: sso.domain,
      ...(await createProductResources(t)),
    },
  };
}
