import { index, type RouteConfig, route } from "@react-router/dev/routes";

export default [
  index("routes/home.tsx"),
  route("tenants", "routes/tenants.tsx"),
  route("tenants/:id", "routes/tenants.$id.tsx"),
] satisfies RouteConfig;
