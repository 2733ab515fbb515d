import { pageSecurityHeaders } from "@tenantry/core/page-headers";
import { createRequestHandler, RouterContextProvider } from "react-router";
import type { TenantAppEnv } from "../server/env";
import { apexFormTargets, apexRedirect } from "../server/hosts";
import { newTenantAppRequest, tenantAppRequest } from "../server/request";
import { crossSiteRefusal, withoutAcsOrigin } from "../server/same-origin";

const pages = createRequestHandler(
  () => import("virtual:react-router/server-build"),
  import.meta.env.MODE,
);

/** Tenant hosts and the apex, every path the zone routes do not send to the API (ADR 017). */
export default {
  async fetch(incoming, env) {
    const request = withoutAcsOrigin(incoming);
    const context = new RouterContextProvider();
    const req = newTenantAppRequest(env);
    context.set(tenantAppRequest, req);
    const response =
      crossSiteRefusal(request) ?? apexRedirect(request, env) ?? (await pages(request, context));
    // Pages are never cached; a resource route that chose its own caching (the logo) keeps it.
    const ownCaching = response.headers.get("cache-control");
    pageSecurityHeaders(response.headers, req.nonce, apexFormTargets(request, env));
    if (ownCaching) response.headers.set("cache-control", ownCaching);
    response.headers.set("x-request-id", req.requestId);
    return response;
  },
} satisfies ExportedHandler<TenantAppEnv>;
