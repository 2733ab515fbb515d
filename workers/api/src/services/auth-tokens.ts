import { newId } from "@tenantry/schema";
import type { AuthTokenKind } from "@tenantry/schema/control";
import type { Env } from "../env";
import { randomSecret, sha256Hex } from "../lib/crypto";

/** Creates a single-use token for a mailed link; returns the raw token (only its hash is kept). */
export async function createAuthToken(
  env: Env,
  input: { kind: AuthTokenKind; userId: string; tenantId: string; ttlMs: number },
): Promise<string> {
  const token = randomSecret();
  const now = Date.now();
  await env.CONTROL_DB.prepare(
    `INSERT INTO auth_tokens (id, kind, user_id, tenant_id, token_hash, expires_at, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  )
    .bind(
      newId("token"),
      input.kind,
      input.userId,
      input.tenantId,
      await sha256Hex(token),
      now + input.ttlMs,
      now,
    )
    .run();
  return token;
}

/** Atomically marks a valid token used; null when unknown, used, expired or of another tenant. */
export async function consumeAuthToken(
  env: Env,
  kind: AuthTokenKind,
  tenantId: string,
  token: string,
): Promise<{ userId: string } | null> {
  const row = await env.CONTROL_DB.prepare(
    `UPDATE auth_tokens SET used_at = ?1
     WHERE token_hash = ?2 AND kind = ?3 AND tenant_id = ?4 AND used_at IS NULL AND expires_at > ?1
     RETURNING user_id`,
  )
    .bind(Date.now(), await sha256Hex(token), kind, tenantId)
    .first<{ user_id: string }>();
  return row ? { userId: row.user_id } : null;
}
