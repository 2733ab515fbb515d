import { randomSecret, sha256Hex } from "@tenantry/core/crypto";
import { newId } from "@tenantry/schema";
import { type AuthTokenKind, authTokens } from "@tenantry/schema/control";
import { and, eq, gt, isNull } from "drizzle-orm";
import { controlDb } from "../db/control-db";
import type { Env } from "../env";

/** Creates a single-use token for a mailed link; returns the raw token (only its hash is kept). */
export async function createAuthToken(
  env: Env,
  input: {
    kind: AuthTokenKind;
    userId: string;
    tenantId: string;
    ttlMs: number;
    /** A token the caller composed (a hand-off code names its session); random by default. */
    token?: string;
  },
): Promise<string> {
  const token = input.token ?? randomSecret();
  const now = Date.now();
  await controlDb(env)
    .insert(authTokens)
    .values({
      id: newId("token"),
      kind: input.kind,
      userId: input.userId,
      tenantId: input.tenantId,
      tokenHash: await sha256Hex(token),
      expiresAt: now + input.ttlMs,
      createdAt: now,
    });
  return token;
}

/** Atomically marks a valid token used; null when unknown, used, expired or of another tenant. */
export async function consumeAuthToken(
  env: Env,
  kind: AuthTokenKind,
  tenantId: string,
  token: string,
): Promise<{ userId: string } | null> {
  const now = Date.now();
  // One guarded statement: of two uses of the same token, one wins.
  const [row] = await controlDb(env)
    .update(authTokens)
    .set({ usedAt: now })
    .where(
      and(
        eq(authTokens.tokenHash, await sha256Hex(token)),
        eq(authTokens.kind, kind),
        eq(authTokens.tenantId, tenantId),
        isNull(authTokens.usedAt),
        gt(authTokens.expiresAt, now),
      ),
    )
    .returning({ userId: authTokens.userId });
  return row ?? null;
}
