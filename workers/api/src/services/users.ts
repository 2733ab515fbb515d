import { users } from "@tenantry/schema/control";
import { eq } from "drizzle-orm";
import { controlDb } from "../db/control-db";
import type { Env } from "../env";

export async function findUser(env: Env, id: string) {
  return (await controlDb(env).select().from(users).where(eq(users.id, id)).get()) ?? null;
}
