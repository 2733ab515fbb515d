import { initWorkerApp, type WorkerVariables } from "@tenantry/core";
import { Hono } from "hono";
import type { AdminEnv } from "./env";

export interface AdminApiEnv {
  Bindings: AdminEnv;
  Variables: WorkerVariables;
}

/** The admin JSON API under /api (automation and scripts); the app's pages call the same verbs. */
export const adminApi = new Hono<AdminApiEnv>().basePath("/api");
initWorkerApp(adminApi, { notFoundDetail: "The admin API has no such route." });

/** The bare route benchmarks compare against: no database, no operator. */
adminApi.get("/health", (c) => c.json({ ok: true }));
