import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** The hash chain over `platform_audit_log`, as `audit_seals` is over a tenant's (ADR 012). */
export const platformAuditSeals = sqliteTable("platform_audit_seals", {
  seq: integer("seq").primaryKey(),
  entryId: text("entry_id").notNull().unique(),
  chainHash: text("chain_hash").notNull(),
  sealedAt: integer("sealed_at").notNull(),
});

/**
 * Each tenant's latest signed checkpoint of its audit chain (ADR 012): kept here, outside the
 * tenant database it vouches for, so rewriting that database cannot rewrite its proof. One row
 * per tenant; only a checkpoint with a higher `seq` replaces it. `checked_at` orders the
 * scheduled sealer's round over the fleet.
 */
export const tenantAuditCheckpoints = sqliteTable("tenant_audit_checkpoints", {
  tenantId: text("tenant_id").primaryKey(),
  seq: integer("seq").notNull(),
  headHash: text("head_hash").notNull(),
  signedAt: integer("signed_at").notNull(),
  keyId: text("key_id").notNull(),
  signature: text("signature").notNull(),
  checkedAt: integer("checked_at").notNull(),
});
