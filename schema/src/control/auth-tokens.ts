import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** `handoff`: the one-time code that carries a sign-up from the apex to the tenant host (ADR 018). */
export const AUTH_TOKEN_KINDS = ["email_verification", "password_reset", "handoff"] as const;
export type AuthTokenKind = (typeof AUTH_TOKEN_KINDS)[number];

/** Single-use, expiring tokens mailed to users (and sign-up hand-off codes). Only a hash of the token is stored. */
export const authTokens = sqliteTable(
  "auth_tokens",
  {
    id: text("id").primaryKey(),
    kind: text("kind", { enum: AUTH_TOKEN_KINDS }).notNull(),
    userId: text("user_id").notNull(),
    tenantId: text("tenant_id").notNull(),
    tokenHash: text("token_hash").notNull().unique(),
    expiresAt: integer("expires_at").notNull(),
    usedAt: integer("used_at"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("auth_tokens_user_idx").on(t.userId)],
);
