import { controlDb, initWorkerApp, log, ProblemError, type WorkerVariables } from "@tenantry/core";
import { stripeEvents } from "@tenantry/schema/control";
import { count, min } from "drizzle-orm";
import { Hono } from "hono";
import { consumeBillingBatch, deadLetter } from "./consumer";
import { config, type Env } from "./env";
import { receiveWebhook } from "./intake";
import { sweepBilling } from "./sweep";

/** Stripe sends at most a few hundred KB; anything far larger is not a Stripe event. */
const MAX_BODY_BYTES = 1024 * 1024;

const app = new Hono<{ Bindings: Env; Variables: WorkerVariables }>();
initWorkerApp(app, {
  notFoundDetail: "No such route.",
  // A 5xx makes Stripe retry the delivery later, which is what an unexpected failure needs.
  internalErrorDetail: "Try again later.",
});

app.get("/healthz", (c) => c.json({ ok: true }));

/** Development only: the ledger by state, and the age of the oldest event still queued. */
app.get("/_dev/ledger", async (c) => {
  if (!["development", "test"].includes(config(c.env).ENVIRONMENT)) {
    return c.notFound();
  }
  const rows = await controlDb(c.env)
    .select({
      state: stripeEvents.state,
      n: count(),
      oldest: min(stripeEvents.receivedAt).mapWith(Number),
    })
    .from(stripeEvents)
    .groupBy(stripeEvents.state);
  const queued = rows.find((r) => r.state === "queued");
  return c.json({
    states: Object.fromEntries(rows.map((r) => [r.state, r.n])),
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

export default {
  fetch: app.fetch,
  async queue(batch, env) {
    if (batch.queue.endsWith("-dlq")) await deadLetter(env, batch);
    else await consumeBillingBatch(env, batch);
  },
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(sweepBilling(env).then((report) => log.info("billing sweep", { ...report })));
  },
} satisfies ExportedHandler<Env, unknown>;
