/**
 * The two audit chains (ADR 012) and the verbs over them: each tenant's `audit_log`, its
 * checkpoint in the control database; the operator log `platform_audit_log`, its checkpoint in
 * the `AUDIT_ANCHORS` KV namespace (outside the control database it vouches for).
 */
import {
  platformAuditLog,
  platformAuditSeals,
  tenantAuditCheckpoints,
  tenants,
} from "@tenantry/schema/control";
import { auditLog, auditSeals } from "@tenantry/schema/tenant";
import { and, asc, eq, inArray, isNotNull, sql } from "drizzle-orm";
import {
  type AuditChain,
  type AuditVerification,
  type SealResult,
  sealChain,
  verifyChain,
} from "./audit-chain";
import type { Checkpoint } from "./audit-checkpoint";
import { inChunks } from "./chunks";
import { controlDb } from "./control-db";
import type { CoreEnv } from "./env";
import { log } from "./log";
import { ProblemError } from "./problem";
import { type TenantLocator, tenantDb } from "./tenant-db";

export interface AuditChainEnv extends CoreEnv {
  /** EC P-256 private JWK with a `kid` that signs checkpoints (a secret). */
  AUDIT_SIGNING_KEY: string;
  /** Holds the operator log's latest checkpoint, away from the control database. */
  AUDIT_ANCHORS: KVNamespace;
}

export interface AuditChainCtx {
  env: AuditChainEnv;
}

const PLATFORM_SCOPE = "platform";
const PLATFORM_ANCHOR_KEY = "platform-audit-checkpoint";

export function tenantAuditChain(env: AuditChainEnv, tenant: TenantLocator): AuditChain {
  const control = controlDb(env);
  const t = tenantAuditCheckpoints;
  return {
    scope: tenant.id,
    orm: tenantDb(env, tenant).orm,
    log: auditLog,
    seals: auditSeals,
    sealColumns: { tenantId: tenant.id },
    async readCheckpoint() {
      const [row] = await control.select().from(t).where(eq(t.tenantId, tenant.id));
      return row
        ? {
            scope: row.tenantId,
            seq: row.seq,
            head_hash: row.headHash,
            signed_at: row.signedAt,
            key_id: row.keyId,
            signature: row.signature,
          }
        : null;
    },
    async writeCheckpoint(cp, now) {
      const values = {
        seq: cp.seq,
        headHash: cp.head_hash,
        signedAt: cp.signed_at,
        keyId: cp.key_id,
        signature: cp.signature,
        checkedAt: now,
      };
      // A slower sealer never replaces a later head with an earlier one.
      await control
        .insert(t)
        .values({ tenantId: tenant.id, ...values })
        .onConflictDoUpdate({
          target: t.tenantId,
          set: values,
          setWhere: sql`excluded.seq >= ${t.seq}`,
        });
    },
  };
}

function platformAuditChain(env: AuditChainEnv): AuditChain {
  return {
    scope: PLATFORM_SCOPE,
    orm: controlDb(env),
    log: platformAuditLog,
    seals: platformAuditSeals,
    sealColumns: {},
    async readCheckpoint() {
      return env.AUDIT_ANCHORS.get<Checkpoint>(PLATFORM_ANCHOR_KEY, "json");
    },
    async writeCheckpoint(cp) {
      // KV has no conditional put: a regression by a racing sealer only leaves the newest
      // entries uncheckpointed until the next run signs the head again.
      const current = await this.readCheckpoint();
      if (!current || current.seq <= cp.seq) {
        await env.AUDIT_ANCHORS.put(PLATFORM_ANCHOR_KEY, JSON.stringify(cp));
      }
    },
  };
}

async function locateTenant(env: AuditChainEnv, tenantId: string): Promise<TenantLocator> {
  const [row] = await controlDb(env)
    .select({ id: tenants.id, databaseBinding: tenants.databaseBinding })
    .from(tenants)
    .where(eq(tenants.id, tenantId));
  if (!row?.databaseBinding) {
    throw new ProblemError(404, "not_found", "Not found", "The tenant does not exist.");
  }
  return row;
}

/** Seals a tenant's pending audit entries and signs its head (idempotent). */
export async function sealTenantAuditLog({
  ctx,
  input,
}: {
  ctx: AuditChainCtx;
  input: { tenantId: string };
}): Promise<SealResult> {
  const tenant = await locateTenant(ctx.env, input.tenantId);
  return sealChain(tenantAuditChain(ctx.env, tenant), ctx.env.AUDIT_SIGNING_KEY);
}

/** Names every altered, deleted, reordered or backdated entry of a tenant's log. Reads only. */
export async function verifyTenantAuditLog({
  ctx,
  input,
}: {
  ctx: AuditChainCtx;
  input: { tenantId: string };
}): Promise<AuditVerification> {
  const tenant = await locateTenant(ctx.env, input.tenantId);
  return verifyChain(tenantAuditChain(ctx.env, tenant), ctx.env.AUDIT_SIGNING_KEY);
}

export function sealPlatformAuditLog({
  ctx,
}: {
  ctx: AuditChainCtx;
  input?: Record<string, never>;
}): Promise<SealResult> {
  return sealChain(platformAuditChain(ctx.env), ctx.env.AUDIT_SIGNING_KEY);
}

/** The operator log's verification, as `verifyTenantAuditLog`. */
export function verifyPlatformAuditLog({
  ctx,
}: {
  ctx: AuditChainCtx;
  input?: Record<string, never>;
}): Promise<AuditVerification> {
  return verifyChain(platformAuditChain(ctx.env), ctx.env.AUDIT_SIGNING_KEY);
}

/** Tenants one scheduled run seals: the ones checked longest ago (never checked first). */
const SEAL_TENANTS_PER_RUN = 500;
const SEAL_CONCURRENCY = 10;

/**
 * The scheduled sealer: the operator log, then up to `SEAL_TENANTS_PER_RUN` tenants, least
 * recently checked first, so every tenant is sealed within
 * ceil(tenants / SEAL_TENANTS_PER_RUN) runs. One tenant's failure does not stop the others.
 */
export async function sealAuditLogs(env: AuditChainEnv, now = Date.now()) {
  const control = controlDb(env);
  const results = { sealed: 0, chains: 0, refused: 0, failed: 0 };
  const seal = async (chain: AuditChain) => {
    const line = log.forTenant(chain.scope === PLATFORM_SCOPE ? null : chain.scope);
    try {
      const r = await sealChain(chain, env.AUDIT_SIGNING_KEY, now);
      results.chains++;
      results.sealed += r.sealed;
      if (r.refused) {
        results.refused++;
        line.error("audit chain not signed", { scope: chain.scope, reason: r.refused });
      }
    } catch (err) {
      results.failed++;
      line.error("audit seal failed", { scope: chain.scope, error: String(err) });
    }
  };
  await seal(platformAuditChain(env));
  const t = tenantAuditCheckpoints;
  const due = await control
    .select({ id: tenants.id, databaseBinding: tenants.databaseBinding })
    .from(tenants)
    .leftJoin(t, eq(t.tenantId, tenants.id))
    .where(
      and(inArray(tenants.status, ["active", "suspended"]), isNotNull(tenants.databaseBinding)),
    )
    .orderBy(asc(t.checkedAt), asc(tenants.id))
    .limit(SEAL_TENANTS_PER_RUN);
  for (const chunk of inChunks(due, SEAL_CONCURRENCY)) {
    await Promise.all(chunk.map((tenant) => seal(tenantAuditChain(env, tenant))));
    await control
      .update(t)
      .set({ checkedAt: now })
      .where(
        inArray(
          t.tenantId,
          chunk.map((x) => x.id),
        ),
      );
  }
  log.info("audit seal round", results);
  return results;
}
