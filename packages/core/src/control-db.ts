import * as control from "@tenantry/schema/control";
import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";
import type { CoreEnv } from "./env";

const orms = new WeakMap<D1Database, DrizzleD1Database<typeof control>>();

/** The control plane through drizzle, typed by the schema (one instance per binding object). */
export function controlDb(env: Pick<CoreEnv, "CONTROL_DB">): DrizzleD1Database<typeof control> {
  let orm = orms.get(env.CONTROL_DB);
  if (!orm) {
    orm = drizzle(env.CONTROL_DB, { schema: control });
    orms.set(env.CONTROL_DB, orm);
  }
  return orm;
}
