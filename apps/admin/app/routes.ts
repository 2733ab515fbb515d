import { index, type RouteConfig, route } from "@react-router/dev/routes";

export default [
  index("routes/home.tsx"),
  route("support", "routes/support.tsx"),
  route("support/:sessionId", "routes/support.$sessionId.tsx"),
  route("audit", "routes/audit.tsx"),
  route("audit.csv", "routes/audit.csv.tsx"),
  route("billing", "routes/billing.tsx"),
  route("billing/reconcile", "routes/billing.reconcile.tsx"),
  route("billing/:tenantId", "routes/billing.$tenantId.tsx"),
  route("fleet", "routes/fleet.tsx"),
  route("sign-in", "routes/sign-in.tsx"),
  route("sign-out", "routes/sign-out.tsx"),
  route("setup/:token", "routes/setup.tsx"),
  route("tokens", "routes/tokens.tsx"),
  route("operators", "routes/operators.tsx"),
  route("tenants", "routes/tenants.tsx"),
  route("tenants/:id", "routes/tenants.$id.tsx"),
] satisfies RouteConfig;
