import { reconcileUsage } from "@tenantry/core";
import { newRouter } from "../app";
import { config, type Env } from "../env";
import { NotFoundError } from "../errors";
import { flushAdmissions } from "../meter/admission";
import { verifyAllAuditLogs } from "../services/audit-verify";
import { listOutbox } from "../services/mailer";
import { OUTBOX_PAGE_CSP, outboxPage } from "./outbox-page";

const devOnly = (env: Env) => {
  if (!["development", "test"].includes(config(env).ENVIRONMENT)) throw new NotFoundError("route");
};

/**
 * Development only: the mailer's outbox (`?to=` filters by recipient), newest first. A browser
 * gets a page with clickable links; `?format=json` or `Accept: application/json` (and clients
 * that do not ask for HTML, such as curl) get JSON.
 */
export const devRoutes = newRouter()
  .get("/_dev/outbox", async (c) => {
    // Only where mail is fake: mailed links are secrets.
    devOnly(c.env);
    const to = c.req.query("to")?.toLowerCase();
    const rows = await listOutbox(c.env, to);
    const accept = c.req.header("accept") ?? "";
    const html =
      c.req.query("format") !== "json" &&
      accept.includes("text/html") &&
      !accept.includes("application/json");
    if (!html) {
      return c.json({ data: rows });
    }
    c.header("content-security-policy", OUTBOX_PAGE_CSP);
    c.header("cache-control", "no-store");
    return c.html(outboxPage(rows, to));
  })
  /**
   * Development only: meters vs ledger vs Stripe for every tenant (`npm run usage:reconcile`);
   * `?flush=1` first sends every meter's pending usage. Operators get it in the admin portal.
   */
  .post("/_dev/usage/reconcile", async (c) => {
    devOnly(c.env);
    const flush = c.req.query("flush") === "1";
    // This isolate's admissions reach the meters first, so their API calls are in the totals.
    if (flush) await flushAdmissions(c.env);
    return c.json(await reconcileUsage(c.env, { flush }));
  })
  /**
   * Development only: every audit chain verified (`npm run audit:verify`); `?seal=1` first seals
   * what is pending, as the scheduled handler would. Operators get it in the admin API.
   */
  .post("/_dev/audit/verify", async (c) => {
    devOnly(c.env);
    return c.json(await verifyAllAuditLogs(c.env, { seal: c.req.query("seal") === "1" }));
  });
