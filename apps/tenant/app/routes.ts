import { index, layout, type RouteConfig, route } from "@react-router/dev/routes";

export default [
  route("sign-in", "routes/sign-in.tsx"),
  route("sign-out", "routes/sign-out.tsx"),
  route("favicon.ico", "routes/favicon.ts"),
  // Signed-in pages: the layout loads the caller and draws the navigation.
  layout("routes/app-layout.tsx", [
    index("routes/home.tsx"),
    route("billing", "routes/billing.tsx"),
    route("usage", "routes/usage.tsx"),
  ]),
] satisfies RouteConfig;
