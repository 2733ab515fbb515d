import { ProblemError, pageSecurityHeaders, renderProblem } from "@tenantry/core";
import { createRequestHandler, RouterContextProvider } from "react-router";
import { accessEnabled, pageAccess } from "../server/access";
import { adminApi } from "../server/api";
import type { AdminEnv } from "../server/env";
import { consumeFleetBatch } from "../server/fleet-queue";
import { adminRequest, newAdminRequest } from "../server/request";

const pages = createRequestHandler(
  () => import("virtual:react-router/server-build"),
  import.meta.env.MODE,
);

/** The admin host: `/api/*` is the JSON API, everything else the operator app. */
export default {
  async fetch(request, env, ctx) {
    const { pathname } = new URL(request.url);
    if (pathname === "/api" || pathname.startsWith("/api/"))
      return adminApi.fetch(request, env, ctx);
    const context = new RouterContextProvider();
    const req = newAdminRequest(request, env, ctx);
    if (accessEnabled(env)) {
      try {
        req.access = await pageAccess(env, request);
      } catch (err) {
        if (err instanceof ProblemError) return renderProblem(err, { ...req, url: request.url });
        throw err;
      }
    }
    context.set(adminRequest, req);
    const response = await pages(request, context);
    pageSecurityHeaders(response.headers, req.nonce);
    response.headers.set("x-request-id", req.requestId);
    return response;
  },
  /** The FLEET queue: fleet migration steps (the worker holds the tenant database pool). */
  async queue(batch, env) {
    await consumeFleetBatch(env, batch);
  },
} satisfies ExportedHandler<AdminEnv, unknown>;
