import { ProblemError, renderProblem } from "@tenantry/core";
import { newId } from "@tenantry/schema";
import { Hono } from "hono";
import { consumeBillingBatch, deadLetter } from "./consumer";
import { type BillingMessage, config, type Env } from "./env";
import { receiveWebhook } from "./intake";
import { sweepBilling } from "./sweep";

/** Stripe sends at most a few hundred KB; anything far larger is not a Stripe event. */
const MAX_BODY_BYTES = 1024 * 1024;

const app = new Hono<{ Bindings: Env; Variables: { requestId: string } }>();

app.use("*", async (c, next) => {
  c.set("requestId", newId("request"));
  await next();
  c.res.headers.set("x-request-id", c.get("requestId"));
});

app.get("/healthz", (c) => c.json({ ok: true }));

/** Development only: the ledger by state, and the age of the oldest event still queued. */
app.get("/_dev/ledger", async (c) => {
  if (!["development", "test"].includes(config(c.env).ENVIRONMENT)) {
    throw new ProblemError(404, "not_found", "Not found", "No such route.");
  }
  const rows = await c.env.CONTROL_DB.prepare(
    "SELECT state, COUNT(*) AS n, MIN(received_at) AS oldest FROM stripe_events GROUP BY state",
  ).all<{ state: string; n: number; oldest: number }>();
  const queued = rows.results.find((r) => r.state === "queued");
  return c.json({
    states: Object.fromEntries(rows.results.map((r) => [r.state, r.n])),
    oldest_queued_ms: queued ? Date.now() - queued.oldest : null,
  });
});

app.post("/stripe/webhook", async (c) => {
  const length = Number(c.req.header("content-length") ?? 0);
  if (length > MAX_BODY_BYTES) {
    throw new ProblemError(413, "payload_too_large", "Payload too large");
  }
  const outcome = await receiveWebhook(c.env, await c.req.text(), c.req.header("stripe-signature"));
  return c.json({ received: true, outcome });
});

app.all("/stripe/webhook", () => {
  throw new ProblemError(
    405,
    "method_not_allowed",
    "Method not allowed",
    "Use POST.",
    {},
    {
      allow: "POST",
    },
  );
});

app.notFound((c) =>
  renderProblem(new ProblemError(404, "not_found", "Not found", "No such route."), {
    requestId: c.get("requestId"),
    url: c.req.url,
  }),
);

app.onError((err, c) => {
  const known = err instanceof ProblemError;
  if (!known) {
    console.error(
      JSON.stringify({
        level: "error",
        request_id: c.get("requestId"),
        path: new URL(c.req.url).pathname,
        error: err instanceof Error ? (err.stack ?? err.message) : String(err),
      }),
    );
  }
  // A 5xx makes Stripe retry the delivery later, which is what an unexpected failure needs.
  const problem = known
    ? err
    : new ProblemError(500, "internal_error", "Internal server error", "Try again later.");
  return renderProblem(problem, { requestId: c.get("requestId"), url: c.req.url });
});

export default {
  fetch: app.fetch,
  async queue(batch, env) {
    if (batch.queue.endsWith("-dlq")) await deadLetter(env, batch);
    else await consumeBillingBatch(env, batch);
  },
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(
      sweepBilling(env).then((report) =>
        console.log(JSON.stringify({ level: "info", msg: "billing sweep", ...report })),
      ),
    );
  },
} satisfies ExportedHandler<Env, BillingMessage>;
