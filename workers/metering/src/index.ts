import { ProblemError, renderProblem, type UsageMessage } from "@tenantry/core";
import { newId } from "@tenantry/schema";
import { consumeUsageBatch, deadLetter, reportUnreported } from "./consumer";
import type { Env } from "./env";

export default {
  fetch(request) {
    if (new URL(request.url).pathname === "/healthz") return Response.json({ ok: true });
    return renderProblem(new ProblemError(404, "not_found", "Not found", "No such route."), {
      requestId: newId("request"),
      url: request.url,
    });
  },
  async queue(batch, env) {
    if (batch.queue.endsWith("-dlq")) await deadLetter(batch);
    else await consumeUsageBatch(env, batch);
  },
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(
      reportUnreported(env).then((report) =>
        console.log(JSON.stringify({ level: "info", msg: "usage sweep", ...report })),
      ),
    );
  },
} satisfies ExportedHandler<Env, UsageMessage>;
