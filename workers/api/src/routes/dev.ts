import { mailOutbox } from "@tenantry/schema/control";
import { desc, eq } from "drizzle-orm";
import { newRouter } from "../app";
import { controlDb } from "../db/control-db";
import { config } from "../env";
import { NotFoundError } from "../errors";

/** Development only: read the mailer's outbox (`?to=` filters by recipient). */
export const devRoutes = newRouter().get("/_dev/outbox", async (c) => {
  // Only where mail is fake: mailed links are secrets.
  if (!["development", "test"].includes(config(c.env).ENVIRONMENT))
    throw new NotFoundError("route");
  const to = c.req.query("to")?.toLowerCase();
  const rows = await controlDb(c.env)
    .select()
    .from(mailOutbox)
    .where(to ? eq(mailOutbox.to, to) : undefined)
    .orderBy(desc(mailOutbox.id))
    .limit(50);
  return c.json({ data: rows });
});
