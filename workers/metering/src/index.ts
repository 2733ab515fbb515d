import { initWorkerApp, log, type WorkerVariables } from "@tenantry/core";
import { Hono } from "hono";
import { consumeUsageBatch, deadLetter, reportUnreported } from "./consumer";
import type { Env } from "./env";

const app = new Hono<{ Bindings: Env; Variables: WorkerVariables }>();
initWorkerApp(app, { notFoundDetail: "No such route." });

app.all("/healthz", (c) => c.json({ ok: true }));

export default {
  fetch: app.fetch,
  async queue(batch, env) {
    if (batch.queue.endsWith("-dlq")) await deadLetter(batch);
    else await consumeUsageBatch(env, batch);
  },
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(reportUnreported(env).then((report) => log.info("usage sweep", { ...report })));
  },
} satisfies ExportedHandler<Env, unknown>;
