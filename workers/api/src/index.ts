import { addMethodNotAllowed, newApp } from "./app";
import type { Env } from "./env";
import { productRoutes } from "./product/routes";
import { apiKeyRoutes } from "./routes/api-keys";
import { auditLogRoutes } from "./routes/audit-log";
import { authRoutes } from "./routes/auth";
import { billingRoutes } from "./routes/billing";
import { devRoutes } from "./routes/dev";
import { entitlementRoutes } from "./routes/entitlements";
import { invitationRoutes } from "./routes/invitations";
import { memberRoutes } from "./routes/members";
import { signupRoutes } from "./routes/signup";
import { systemRoutes } from "./routes/system";
import { usageRoutes } from "./routes/usage";
import { linkMissingStripeCustomers } from "./services/billing-customer";
import { sweepStaleProvisioning } from "./services/provisioning";

export const app = newApp()
  .route("/", systemRoutes)
  .route("/", signupRoutes)
  .route("/", authRoutes)
  .route("/", memberRoutes)
  .route("/", invitationRoutes)
  .route("/", apiKeyRoutes)
  .route("/", auditLogRoutes)
  .route("/", billingRoutes)
  .route("/", entitlementRoutes)
  .route("/", usageRoutes)
  .route("/", productRoutes)
  .route("/", devRoutes);

app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
  type: "http",
  scheme: "bearer",
  description: "An access token (JWT from /v1/auth/login) or an API key (`tnry_…`).",
});
app.doc31("/openapi.json", {
  openapi: "3.1.0",
  info: {
    title: "Tenantry API",
    version: "1.0.0",
    description:
      "Multi-tenant SaaS foundation API. Tenants are addressed by host: `https://<slug>.<BASE_DOMAIN>`.",
  },
});
addMethodNotAllowed(app);

export { TenantMeter } from "./meter/tenant-meter";

export default {
  fetch: app.fetch,
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(sweepStaleProvisioning(env));
    ctx.waitUntil(linkMissingStripeCustomers(env));
  },
} satisfies ExportedHandler<Env>;
