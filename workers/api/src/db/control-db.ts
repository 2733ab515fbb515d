import * as control from "@tenantry/schema/control";
import { drizzle } from "drizzle-orm/d1";
import type { Env } from "../env";

export function controlDb(env: Env) {
  return drizzle(env.CONTROL_DB, { schema: control });
}
