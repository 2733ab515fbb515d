import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { timestamps } from "../columns";
import { OPERATOR_ROLES } from "./operator-roles";

export { OPERATOR_ROLES, type OperatorRole } from "./operator-roles";

/**
 * The people who run the platform. A realm of their own: an operator is not a tenant user, and
 * no tenant credential names one. In production Cloudflare Access vouches for the email; the
 * password and TOTP secret are for development and for deployments without Access.
 */
export const operators = sqliteTable("operators", {
  id: text("id").primaryKey(),
  email: text("email").notNull().unique(),
  name: text("name").notNull(),
  role: text("role", { enum: OPERATOR_ROLES }).notNull(),
  /** `active`, or `disabled` (no sign-in, sessions and tokens refused). */
  status: text("status", { enum: ["active", "disabled"] }).notNull(),
  passwordHash: text("password_hash"),
  /** Base32 TOTP secret; null until enrolled (a reset clears it). */
  totpSecret: text("totp_secret"),
  /** The last TOTP time step accepted: a code is never accepted twice. */
  totpLastStep: integer("totp_last_step"),
  /**
   * A pending one-time setup link (invitation or TOTP reset): the SHA-256 of its secret and its
   * end. While one is pending the operator cannot sign in; completing it sets the password and
   * enrols the TOTP secret above, and clears both columns.
   */
  setupTokenHash: text("setup_token_hash").unique(),
  setupExpiresAt: integer("setup_expires_at"),
  invitedBy: text("invited_by"),
  ...timestamps,
});

/** Browser sessions on the admin host: the cookie holds a secret whose SHA-256 is stored. */
export const operatorSessions = sqliteTable(
  "operator_sessions",
  {
    id: text("id").primaryKey(),
    operatorId: text("operator_id").notNull(),
    secretHash: text("secret_hash").notNull().unique(),
    /** Per-session CSRF secret (a synchronizer token in every form and JSON mutation). */
    csrfToken: text("csrf_token").notNull(),
    createdAt: integer("created_at").notNull(),
    lastSeenAt: integer("last_seen_at").notNull(),
    /** Absolute end; idle expiry is `last_seen_at` + the idle timeout. */
    expiresAt: integer("expires_at").notNull(),
    revokedAt: integer("revoked_at"),
  },
  (t) => [index("operator_sessions_operator_idx").on(t.operatorId)],
);

/** Bearer tokens for the admin JSON API: hashed, shown once, expiring, scoped to a role. */
export const operatorTokens = sqliteTable(
  "operator_tokens",
  {
    id: text("id").primaryKey(),
    operatorId: text("operator_id").notNull(),
    name: text("name").notNull(),
    secretHash: text("secret_hash").notNull().unique(),
    /** At most the operator's role when created; the lower of the two applies when used. */
    role: text("role", { enum: OPERATOR_ROLES }).notNull(),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    lastUsedAt: integer("last_used_at"),
    revokedAt: integer("revoked_at"),
  },
  (t) => [index("operator_tokens_operator_idx").on(t.operatorId)],
);
