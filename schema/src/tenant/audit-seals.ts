import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { tenantId } from "../columns";

/**
 * The hash chain over `audit_log` (ADR 012), written only by the sealer: entry `seq` is sealed by
 * `chain_hash = SHA-256(previous chain_hash, seq, the entry's canonical encoding)`. A table of its
 * own rather than columns on `audit_log`, so the writers' batches stay as they are and a seal is
 * plain inserts: two sealers racing collide on the primary key or the unique entry id, and the
 * loser's whole batch rolls back.
 */
export const auditSeals = sqliteTable(
  "audit_seals",
  {
    seq: integer("seq").primaryKey(),
    entryId: text("entry_id").notNull().unique(),
    tenantId: tenantId(),
    chainHash: text("chain_hash").notNull(),
    sealedAt: integer("sealed_at").notNull(),
  },
  (t) => [index("audit_seals_tenant_idx").on(t.tenantId)],
);
