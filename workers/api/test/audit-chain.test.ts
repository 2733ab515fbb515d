/**
 * Tamper-evident audit logs (ADR 012): entries are sealed into a hash chain after the fact, the
 * head is signed, and verify names every entry changed or removed directly in D1.
 */
import { env } from "cloudflare:workers";
import {
  type AuditVerification,
  sealAuditLogs,
  sealPlatformAuditLog,
  sealTenantAuditLog,
  verifyPlatformAuditLog,
  verifyTenantAuditLog,
} from "@tenantry/core";
import { newId } from "@tenantry/schema";
import { beforeEach, describe, expect, it } from "vitest";
import { api, createApiKey, createTenant, type TestTenant, tenantD1 } from "./helpers";

const ctx = { env };
type Row = Record<string, unknown>;

/** The documented encoding, written again from the ADR: non-null columns, keys sorted. */
function canonical(row: Row): string {
  const keys = Object.keys(row)
    .filter((k) => row[k] !== null)
    .sort();
  return JSON.stringify(Object.fromEntries(keys.map((k) => [k, row[k]])));
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

const problems = (v: AuditVerification) =>
  v.findings.map(({ entryId, seq, problem }) => ({ entryId, seq, problem }));

/** What an attacker with write access to the database does: every seal recomputed. */
async function rewriteChain(db: D1Database, log: string, seals: string) {
  const rows = (
    await db
      .prepare(
        `SELECT s.seq, s.entry_id, l.* FROM ${seals} s JOIN ${log} l ON l.id = s.entry_id ORDER BY s.seq`,
      )
      .all<Row>()
  ).results;
  let prev = "0".repeat(64);
  const updates = [];
  for (const { seq, entry_id: _entryId, ...entry } of rows) {
    prev = await sha256Hex(`${prev}\n${seq}\n${canonical(entry)}`);
    updates.push(db.prepare(`UPDATE ${seals} SET chain_hash = ? WHERE seq = ?`).bind(prev, seq));
  }
  await db.batch(updates);
}

async function sealedTenant(): Promise<{ t: TestTenant; db: D1Database; entries: Row[] }> {
  const t = await createTenant();
  await createApiKey(t, ["members:read"]);
  await createApiKey(t, ["members:read"]);
  const sealed = await sealTenantAuditLog({ ctx, input: { tenantId: t.tenant.id } });
  expect(sealed.refused).toBeUndefined();
  const db = tenantD1(t);
  const entries = (
    await db
      .prepare(
        "SELECT l.*, s.seq FROM audit_log l JOIN audit_seals s ON s.entry_id = l.id ORDER BY s.seq",
      )
      .all<Row>()
  ).results;
  return { t, db, entries };
}

describe("a tenant's audit chain", () => {
  it("seals every entry in creation order, signs the head, and verifies", async () => {
    const { t, entries } = await sealedTenant();
    expect(entries.length).toBeGreaterThanOrEqual(5);
    expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i + 1));
    const v = await verifyTenantAuditLog({ ctx, input: { tenantId: t.tenant.id } });
    expect(v).toMatchObject({
      ok: true,
      sealed: entries.length,
      head: { seq: entries.length },
      checkpoint: { scope: t.tenant.id, seq: entries.length },
      unsealed: { count: 0 },
      findings: [],
    });
    // Sealing again is a no-op: same head, same checkpoint.
    const again = await sealTenantAuditLog({ ctx, input: { tenantId: t.tenant.id } });
    expect(again).toMatchObject({ sealed: 0, checkpoint: v.checkpoint });
  });

  it("reports entries written after the seal as unsealed, and seals them next time", async () => {
    const { t } = await sealedTenant();
    await createApiKey(t, ["members:read"]);
    const v = await verifyTenantAuditLog({ ctx, input: { tenantId: t.tenant.id } });
    expect(v.ok).toBe(true);
    expect(v.unsealed.count).toBe(1);
    expect((await sealTenantAuditLog({ ctx, input: { tenantId: t.tenant.id } })).sealed).toBe(1);
    const after = await verifyTenantAuditLog({ ctx, input: { tenantId: t.tenant.id } });
    expect(after).toMatchObject({ ok: true, unsealed: { count: 0 } });
    expect(after.checkpoint!.seq).toBe(v.checkpoint!.seq + 1);
  });

  it("names an entry altered directly in D1", async () => {
    const { t, db, entries } = await sealedTenant();
    const victim = entries[2]!;
    await db.prepare("UPDATE audit_log SET ip = '203.0.113.9' WHERE id = ?").bind(victim.id).run();
    const v = await verifyTenantAuditLog({ ctx, input: { tenantId: t.tenant.id } });
    expect(v.ok).toBe(false);
    expect(problems(v)).toEqual([{ entryId: victim.id, seq: 3, problem: "altered" }]);
  });

  it("names an entry deleted directly in D1, and the gap when its seal goes too", async () => {
    const { t, db, entries } = await sealedTenant();
    const [first, second] = [entries[1]!, entries[3]!];
    await db.prepare("DELETE FROM audit_log WHERE id = ?").bind(first.id).run();
    await db.batch([
      db.prepare("DELETE FROM audit_log WHERE id = ?").bind(second.id),
      db.prepare("DELETE FROM audit_seals WHERE entry_id = ?").bind(second.id),
    ]);
    const v = await verifyTenantAuditLog({ ctx, input: { tenantId: t.tenant.id } });
    expect(problems(v)).toEqual([
      { entryId: first.id, seq: 2, problem: "deleted" },
      { entryId: null, seq: 4, problem: "deleted" },
    ]);
  });

  it("names entries whose seals were swapped as reordered", async () => {
    const { t, db, entries } = await sealedTenant();
    const [a, b] = [entries[1]!, entries[2]!];
    await db.batch([
      db.prepare("UPDATE audit_seals SET entry_id = 'swap' WHERE seq = 2"),
      db.prepare("UPDATE audit_seals SET entry_id = ? WHERE seq = 3").bind(a.id),
      db.prepare("UPDATE audit_seals SET entry_id = ? WHERE seq = 2").bind(b.id),
    ]);
    const v = await verifyTenantAuditLog({ ctx, input: { tenantId: t.tenant.id } });
    expect(problems(v)).toEqual([
      { entryId: b.id, seq: 2, problem: "reordered" },
      { entryId: a.id, seq: 3, problem: "reordered" },
    ]);
  });

  it("names the missing tail when the newest entries and their seals are removed", async () => {
    const { t, db, entries } = await sealedTenant();
    const last = entries.at(-1)!;
    await db.batch([
      db.prepare("DELETE FROM audit_log WHERE id = ?").bind(last.id),
      db.prepare("DELETE FROM audit_seals WHERE seq = ?").bind(last.seq),
    ]);
    const v = await verifyTenantAuditLog({ ctx, input: { tenantId: t.tenant.id } });
    expect(problems(v)).toEqual([{ entryId: null, seq: last.seq, problem: "truncated" }]);
  });

  it("catches a whole chain rewritten consistently by its signed checkpoint, and never signs it", async () => {
    const { t, db, entries } = await sealedTenant();
    await db
      .prepare("UPDATE audit_log SET actor_id = 'someone_else' WHERE id = ?")
      .bind(entries[0]!.id)
      .run();
    await rewriteChain(db, "audit_log", "audit_seals");
    const v = await verifyTenantAuditLog({ ctx, input: { tenantId: t.tenant.id } });
    // Every link holds (the attacker's encoding is the documented one), the signed head does not.
    expect(problems(v)).toEqual([
      { entryId: null, seq: entries.length, problem: "checkpoint_mismatch" },
    ]);
    await createApiKey(t, ["members:read"]);
    const sealed = await sealTenantAuditLog({ ctx, input: { tenantId: t.tenant.id } });
    expect(sealed.refused).toBe("the chain no longer matches its checkpoint");
    expect(sealed.checkpoint).toEqual(v.checkpoint);
  });

  it("refuses a checkpoint whose signature was forged in the control database", async () => {
    const { t } = await sealedTenant();
    await env.CONTROL_DB.prepare(
      "UPDATE tenant_audit_checkpoints SET head_hash = ? WHERE tenant_id = ?",
    )
      .bind("f".repeat(64), t.tenant.id)
      .run();
    const v = await verifyTenantAuditLog({ ctx, input: { tenantId: t.tenant.id } });
    expect(problems(v)).toEqual([
      { entryId: null, seq: v.head.seq, problem: "checkpoint_mismatch" },
    ]);
  });

  it("parallel sealers beside parallel writers build one gapless chain, each entry once", async () => {
    const t = await createTenant();
    const seal = () => sealTenantAuditLog({ ctx, input: { tenantId: t.tenant.id } });
    await Promise.all([
      ...Array.from({ length: 8 }, () => createApiKey(t, ["members:read"])),
      ...Array.from({ length: 4 }, seal),
    ]);
    await Promise.all(Array.from({ length: 4 }, seal));
    const db = tenantD1(t);
    const seals = (
      await db.prepare("SELECT seq, entry_id FROM audit_seals ORDER BY seq").all<Row>()
    ).results;
    const total = (await db.prepare("SELECT count(*) AS n FROM audit_log").first<{ n: number }>())!
      .n;
    expect(seals.map((s) => s.seq)).toEqual(seals.map((_, i) => i + 1));
    expect(new Set(seals.map((s) => s.entry_id)).size).toBe(total);
    const v = await verifyTenantAuditLog({ ctx, input: { tenantId: t.tenant.id } });
    expect(v).toMatchObject({ ok: true, sealed: total, checkpoint: { seq: total } });
  });

  it("the scheduled sealer covers tenants that were never sealed", async () => {
    const t = await createTenant();
    await sealAuditLogs(env);
    const v = await verifyTenantAuditLog({ ctx, input: { tenantId: t.tenant.id } });
    expect(v).toMatchObject({ ok: true, unsealed: { count: 0 } });
    expect(v.sealed).toBeGreaterThan(0);
  });
});

describe("POST /_dev/audit/verify (npm run audit:verify)", () => {
  it("seals and verifies every log, naming the tampered ones", async () => {
    const fresh = await createTenant();
    const { t, db, entries } = await sealedTenant();
    await db.prepare("DELETE FROM audit_log WHERE id = ?").bind(entries[0]!.id).run();
    const res = await api("POST", "/_dev/audit/verify?seal=1");
    expect(res.status).toBe(200);
    const byScope = new Map<string, AuditVerification>(
      res.body.tenants.map((v: AuditVerification) => [v.scope, v]),
    );
    expect(res.body.platform.scope).toBe("platform");
    expect(byScope.get(fresh.tenant.id)).toMatchObject({ ok: true, unsealed: { count: 0 } });
    expect(problems(byScope.get(t.tenant.id)!)).toEqual([
      { entryId: entries[0]!.id, seq: 1, problem: "deleted" },
    ]);
  });
});

describe("GET /v1/audit-log/export", () => {
  it("hands out the chain with a checkpoint that verifies with the published key", async () => {
    const t = await createTenant();
    await createApiKey(t, ["members:read"]);
    const as = { slug: t.slug, token: t.owner.token };
    const first = await api("GET", "/v1/audit-log/export?limit=2", as);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      format: "tenantry-audit-export/v1",
      prev_hash: "0".repeat(64),
    });
    const rest = await api(
      `GET`,
      `/v1/audit-log/export?after_seq=${first.body.next_after_seq}`,
      as,
    );
    expect(rest.body.prev_hash).toBe(first.body.entries.at(-1).chain_hash);
    expect(rest.body.next_after_seq).toBeNull();
    const entries = [...first.body.entries, ...rest.body.entries];
    const { checkpoint } = rest.body;
    expect(checkpoint.seq).toBe(entries.length);

    // What a tenant does with the download, from the documentation alone.
    let prev = first.body.prev_hash as string;
    for (const e of entries) {
      prev = await sha256Hex(`${prev}\n${e.seq}\n${canonical(e.entry)}`);
      expect(e.chain_hash).toBe(prev);
    }
    expect(checkpoint.head_hash).toBe(prev);
    const keys = await api("GET", "/.well-known/audit-keys");
    const jwk = keys.body.keys.find((k: { kid: string }) => k.kid === checkpoint.key_id);
    const key = await crypto.subtle.importKey(
      "jwk",
      { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y },
      { name: "ECDSA", namedCurve: "P-256" },
      false,
      ["verify"],
    );
    const message = `tenantry-audit-checkpoint/v1\n${checkpoint.scope}\n${checkpoint.seq}\n${checkpoint.head_hash}\n${checkpoint.signed_at}`;
    const signature = Uint8Array.from(
      atob(checkpoint.signature.replace(/-/g, "+").replace(/_/g, "/")),
      (c) => c.charCodeAt(0),
    );
    const valid = (m: string) =>
      crypto.subtle.verify(
        { name: "ECDSA", hash: "SHA-256" },
        key,
        signature,
        new TextEncoder().encode(m),
      );
    expect(await valid(message)).toBe(true);
    expect(await valid(message.replace(checkpoint.head_hash, "0".repeat(64)))).toBe(false);
    expect(JSON.stringify(keys.body)).not.toContain('"d"');
  });
});

describe("the operator audit log", () => {
  const anchorKey = "platform-audit-checkpoint";

  /** An operator action, written as the admin services write it. */
  async function operatorEntry(n: number) {
    await env.CONTROL_DB.prepare(
      "INSERT INTO platform_audit_log (id, actor_type, actor_id, action, tenant_id, target_type, target_id, reason, before, after, request_id, ip, created_at) VALUES (?, 'operator', 'op_1', 'tenant.reclaim', NULL, 'tenant', ?, 'test', NULL, ?, NULL, NULL, ?)",
    )
      .bind(newId("audit"), `ten_${n}`, JSON.stringify({ n }), Date.now())
      .run();
  }

  beforeEach(async () => {
    await env.CONTROL_DB.batch([
      env.CONTROL_DB.prepare("DELETE FROM platform_audit_seals"),
      env.CONTROL_DB.prepare("DELETE FROM platform_audit_log"),
    ]);
    await env.AUDIT_ANCHORS.delete(anchorKey);
  });

  /** Five sealed operator entries, their ids in seal order. */
  async function sealedPlatform() {
    for (let n = 0; n < 5; n++) await operatorEntry(n);
    const sealed = await sealPlatformAuditLog({ ctx });
    expect(sealed).toMatchObject({ sealed: 5, checkpoint: { scope: "platform", seq: 5 } });
    const seals = await env.CONTROL_DB.prepare(
      "SELECT entry_id FROM platform_audit_seals ORDER BY seq",
    ).all<{ entry_id: string }>();
    return seals.results.map((s) => s.entry_id);
  }

  it("seals, anchors its checkpoint outside the control database, and verifies", async () => {
    await sealedPlatform();
    expect(await env.AUDIT_ANCHORS.get(anchorKey, "json")).toMatchObject({ seq: 5 });
    const v = await verifyPlatformAuditLog({ ctx });
    expect(v).toMatchObject({ ok: true, sealed: 5, findings: [] });
  });

  it("names an altered and a deleted entry", async () => {
    const ids = await sealedPlatform();
    await env.CONTROL_DB.prepare("UPDATE platform_audit_log SET reason = 'nothing' WHERE id = ?")
      .bind(ids[1])
      .run();
    await env.CONTROL_DB.prepare("DELETE FROM platform_audit_log WHERE id = ?").bind(ids[3]).run();
    const v = await verifyPlatformAuditLog({ ctx });
    expect(problems(v)).toEqual([
      { entryId: ids[1], seq: 2, problem: "altered" },
      { entryId: ids[3], seq: 4, problem: "deleted" },
    ]);
  });

  it("catches a consistent rewrite by the anchored checkpoint", async () => {
    const ids = await sealedPlatform();
    await env.CONTROL_DB.prepare("UPDATE platform_audit_log SET actor_id = 'op_2' WHERE id = ?")
      .bind(ids[0])
      .run();
    await rewriteChain(env.CONTROL_DB, "platform_audit_log", "platform_audit_seals");
    const v = await verifyPlatformAuditLog({ ctx });
    expect(problems(v)).toEqual([{ entryId: null, seq: 5, problem: "checkpoint_mismatch" }]);
  });

  it("parallel sealers build one gapless chain", async () => {
    for (let n = 0; n < 12; n++) await operatorEntry(n);
    await Promise.all(Array.from({ length: 4 }, () => sealPlatformAuditLog({ ctx })));
    const v = await verifyPlatformAuditLog({ ctx });
    expect(v).toMatchObject({ ok: true, sealed: 12, checkpoint: { seq: 12 } });
  });
});
