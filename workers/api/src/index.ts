import { WorkerEntrypoint } from "cloudflare:workers";
import { endExpiredSupportAccess, sealAuditLogs } from "@tenantry/core";
import { newId } from "@tenantry/schema";
import { addMethodNotAllowed, newApp } from "./app";
import { config, type Env } from "./env";
import { productRoutes } from "./platform";
import { apiKeyRoutes } from "./routes/api-keys";
import { auditLogRoutes } from "./routes/audit-log";
import { authRoutes } from "./routes/auth";
import { billingRoutes } from "./routes/billing";
import { devRoutes } from "./routes/dev";
import { entitlementRoutes } from "./routes/entitlements";
import { invitationRoutes } from "./routes/invitations";
import { memberRoutes } from "./routes/members";
import { mfaRoutes } from "./routes/mfa";
import { notificationRoutes } from "./routes/notifications";
import { planRoutes } from "./routes/plans";
import { scimRoutes } from "./routes/scim/index";
import { scimTokenRoutes } from "./routes/scim-tokens";
import { settingsRoutes } from "./routes/settings";
import { signupRoutes } from "./routes/signup";
import { ssoRoutes } from "./routes/sso";
import { systemRoutes } from "./routes/system";
import { usageRoutes } from "./routes/usage";
import { linkMissingStripeCustomers } from "./services/billing-customer";
import { migrateTenantDatabases } from "./services/fleet-migrations";
import { consumeMailBatch, deadLetterMail } from "./services/mail-queue";
import { sweepStaleProvisioning } from "./services/provisioning";
import { reclaimUnverifiedTenants } from "./services/reclaim";
import { markFromTenantApp } from "./tenant-app-entry";

const base = newApp();
// A bad configuration (e.g. production without a mailer) fails every request, loudly, rather
// than only the first request that happens to need the setting.
base.use("*", async (c, next) => {
  config(c.env);
  await next();
});

export const app = base
  .route("/", systemRoutes)
  .route("/", signupRoutes)
  .route("/", authRoutes)
  .route("/", mfaRoutes)
  .route("/", memberRoutes)
  .route("/", invitationRoutes)
  .route("/", apiKeyRoutes)
  .route("/", scimTokenRoutes)
  .route("/", scimRoutes)
  .route("/", auditLogRoutes)
  .route("/", settingsRoutes)
  .route("/", ssoRoutes)
  .route("/", billingRoutes)
  .route("/", entitlementRoutes)
  .route("/", planRoutes)
  .route("/", usageRoutes)
  .route("/", notificationRoutes)
  .route("/", productRoutes)
  .route("/", devRoutes);

app.openAPIRegistry.registerComponent("securitySchemes", "bearerJwt", {
  type: "http",
  scheme: "bearer",
  bearerFormat: "JWT",
  description:
    "A member's access token (ES256 JWT from /v1/auth/login, 15 minutes), or an operator's support token (ES256 JWT, `typ` support+jwt, at most 15 minutes; see README, Support access).",
});
app.openAPIRegistry.registerComponent("securitySchemes", "apiKey", {
  type: "http",
  scheme: "bearer",
  bearerFormat: "tnry_…",
  description: "An API key (`tnry_…`) with a subset of its member's permissions.",
});
app.doc31("/openapi.json", {
  openapi: "3.1.0",
  // Relative: the tenant is the host the document was fetched from (or the apex, for sign-up).
  servers: [{ url: "/", description: "This host: a tenant's host, or the apex for sign-up" }],
  info: {
    title: "Tenantry API",
    version: "1.0.0",
    description:
      "Multi-tenant SaaS foundation API. Tenants are addressed by host: `https://<slug>.<BASE_DOMAIN>`.",
  },
});
addMethodNotAllowed(app);

export { TenantMeter } from "./meter/tenant-meter";

/**
 * The tenant app's way in: its service binding names this entrypoint, which the internet cannot
 * reach. The same API, except that its requests for signed-in people are admitted as `app`
 * (a budget of their own, never `api_calls`; ADR 022).
 */
export class TenantApp extends WorkerEntrypoint<Env> {
  override fetch(request: Request): Response | Promise<Response> {
    markFromTenantApp(request);
    return app.fetch(request, this.env, this.ctx);
  }
}

export default {
  fetch: app.fetch,
  // This worker consumes only the MAIL queue and its dead letters (USAGE is consumed elsewhere).
  async queue(batch, env) {
    if (batch.queue.endsWith("-dlq")) await deadLetterMail(env, batch);
    else await consumeMailBatch(env, batch);
  },
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(sweepStaleProvisioning(env));
    ctx.waitUntil(linkMissingStripeCustomers(env));
    ctx.waitUntil(reclaimUnverifiedTenants(env));
    ctx.waitUntil(endExpiredSupportAccess(env, newId("request")));
    // Seals the operator log and a round of tenants' logs, and signs their heads (ADR 012).
    ctx.waitUntil(sealAuditLogs(env));
    // Tenant databases behind the deployed code (new tenant migrations), in the background;
    // a tenant's own request catches it up first if it comes sooner (middleware/tenant.ts).
    ctx.waitUntil(migrateTenantDatabases(env));
  },
} satisfies ExportedHandler<Env>;
