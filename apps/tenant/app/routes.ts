import { index, layout, type RouteConfig, route } from "@react-router/dev/routes";

export default [
  route("sign-in", "routes/sign-in.tsx"),
  route("sign-out", "routes/sign-out.tsx"),
  route("forgot-password", "routes/forgot-password.tsx"),
  route("reset-password", "routes/reset-password.tsx"),
  route("verify-email", "routes/verify-email.tsx"),
  // Sign-up's hand-off from the apex (ADR 018), and the apex's mailed confirmation.
  route("auth/handoff", "routes/auth-handoff.tsx"),
  route("signup/confirm", "routes/signup-confirm.tsx"),
  route("favicon.ico", "routes/favicon.ts"),
  route("accept-invitation", "routes/accept-invitation.tsx"),
  // The identity provider returns here (each SSO connection's redirect URI).
  route("sso/callback", "routes/sso-callback.tsx"),
  // A SAML connection's ACS (the IdP posts here) and SP metadata (docs/sso.md: the URL contract).
  route("sso/saml/:id/acs", "routes/sso-saml-acs.tsx"),
  route("sso/saml/:id/metadata", "routes/sso-saml-metadata.ts"),
  route("branding/logo", "routes/branding-logo.ts"),
  // Signed-in pages: the layout loads the caller and draws the navigation. On the apex, `/` is
  // sign-up instead (home.tsx) and every other path redirects there (server/hosts.ts, in the worker entry).
  layout("routes/app-layout.tsx", [
    index("routes/home.tsx"),
    route("members", "routes/members.tsx"),
    route("api-keys", "routes/api-keys.tsx"),
    route("audit-log", "routes/audit-log.tsx"),
    route("billing", "routes/billing.tsx"),
    route("usage", "routes/usage.tsx"),
    route("settings", "routes/settings.tsx"),
    route("settings/sso", "routes/settings-sso.tsx"),
    route("settings/scim", "routes/settings-scim.tsx"),
    route("notifications", "routes/notifications.tsx"),
    route("account/security", "routes/account-security.tsx"),
    // The example product (apps/tenant/README.md: replacing it).
    route("projects", "routes/projects.tsx"),
    route("projects/:id", "routes/projects-detail.tsx"),
  ]),
  route("projects/:id/tasks.csv", "routes/projects-export.ts"),
] satisfies RouteConfig;
