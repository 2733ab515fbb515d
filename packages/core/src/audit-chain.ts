/**
 * Tamper-evident audit logs (ADR 012). Writers insert entries as before, concurrently, inside
 * their batches; a sealer later chains them in a deterministic order and signs the head:
 *
 *   chain_hash(seq) = hex SHA-256( chain_hash(seq − 1) "\n" seq "\n" canonicalEntry(entry) )
 *
 * with `chain_hash(0)` = 64 zeros. A seal is one batch of plain inserts into the seals table
 * (primary key `seq`, unique `entry_id`), so two sealers cannot both extend the same head: the
 * loser's batch fails whole on the constraint and it starts again from the new head.
 */
import type { platformAuditLog, platformAuditSeals } from "@tenantry/schema/control";
import type { auditLog, auditSeals } from "@tenantry/schema/tenant";
import { asc, desc, eq, getTableColumns, gt, notExists, sql } from "drizzle-orm";
import type { DrizzleD1Database } from "drizzle-orm/d1";
import { type Checkpoint, checkpointSigned, signCheckpoint } from "./audit-checkpoint";

export const GENESIS_HASH = "0".repeat(64);
/** Entries chained per batch; a sealer loops until nothing is left. */
const SEAL_BATCH = 100;
const VERIFY_PAGE = 500;
/** Seal order is creation order; a later seal of an entry older than this is `backdated`. */
const BACKDATE_TOLERANCE_MS = 10 * 60_000;

type LogTable = typeof auditLog | typeof platformAuditLog;
type SealTable = typeof auditSeals | typeof platformAuditSeals;
type AnyOrm = DrizzleD1Database<Record<string, unknown>>;

/** Where one chain lives and where its checkpoint is kept (outside the database it protects). */
export interface AuditChain {
  /** A tenant id, or `platform`. */
  scope: string;
  orm: AnyOrm;
  log: LogTable;
  seals: SealTable;
  /** Extra columns of a seal row (the tenant plane's `tenant_id`). */
  sealColumns: Record<string, string>;
  readCheckpoint(): Promise<Checkpoint | null>;
  /** Stores `cp` unless a checkpoint with a higher seq is already there. */
  writeCheckpoint(cp: Checkpoint, now: number): Promise<void>;
}

type EntryRow = Record<string, unknown>;

/**
 * The stable encoding of an entry: a JSON object of every column of the log table under its SQL
 * name, keys sorted, columns holding NULL left out (so adding a nullable column later leaves
 * earlier hashes valid), values as stored (text as strings, integers as numbers).
 */
function canonicalEntry(log: LogTable, row: EntryRow): string {
  const out: Record<string, unknown> = {};
  const columns = Object.entries(getTableColumns(log)).sort(([, a], [, b]) =>
    a.name < b.name ? -1 : 1,
  );
  for (const [key, column] of columns) {
    const value = row[key];
    if (value !== null && value !== undefined) out[column.name] = value;
  }
  return JSON.stringify(out);
}

/** The entry as its SQL columns (every column, nulls included): what an export hands out. */
function entryColumns(log: LogTable, row: EntryRow): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(getTableColumns(log)).map(([key, column]) => [column.name, row[key] ?? null]),
  );
}

async function chainHash(prev: string, seq: number, canonical: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(`${prev}\n${seq}\n${canonical}`),
  );
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function readHead(chain: AuditChain): Promise<{ seq: number; hash: string }> {
  const s = chain.seals;
  const [head] = await chain.orm
    .select({ seq: s.seq, hash: s.chainHash })
    .from(s)
    .orderBy(desc(s.seq))
    .limit(1);
  return head ?? { seq: 0, hash: GENESIS_HASH };
}

function unsealed(chain: AuditChain) {
  const { log, seals } = chain;
  return notExists(chain.orm.select({ one: sql`1` }).from(seals).where(eq(seals.entryId, log.id)));
}

/** A lost race: another sealer took the seq or the entry first. */
const lostRace = (err: unknown) => /UNIQUE constraint failed/i.test(String(err));

/** Chains one batch of unsealed entries onto the head; 0 when there was nothing to seal. */
async function sealBatch(chain: AuditChain, now: number): Promise<number> {
  const head = await readHead(chain);
  const log = chain.log;
  const rows = (await chain.orm
    .select()
    .from(log)
    .where(unsealed(chain))
    .orderBy(asc(log.createdAt), asc(log.id))
    .limit(SEAL_BATCH)) as EntryRow[];
  if (rows.length === 0) return 0;
  let prev = head.hash;
  const inserts = [];
  for (const [i, row] of rows.entries()) {
    const seq = head.seq + i + 1;
    prev = await chainHash(prev, seq, canonicalEntry(log, row));
    inserts.push(
      chain.orm.insert(chain.seals).values({
        seq,
        entryId: row.id as string,
        chainHash: prev,
        sealedAt: now,
        ...chain.sealColumns,
      } as typeof auditSeals.$inferInsert),
    );
  }
  try {
    await chain.orm.batch(inserts as [(typeof inserts)[number], ...typeof inserts]);
  } catch (err) {
    if (lostRace(err)) return -1;
    throw err;
  }
  return rows.length;
}

export interface SealResult {
  scope: string;
  /** Entries this run chained. */
  sealed: number;
  head: { seq: number; hash: string };
  /** The checkpoint now in place; `refused` says why the head was not signed. */
  checkpoint: Checkpoint | null;
  refused?: string;
}

/** After this many lost races in a row a run gives up; the next run continues. */
const MAX_LOST_RACES = 5;

/**
 * Seals every unsealed entry of `chain`, then signs its head. Idempotent; safe beside other
 * sealers. The head is signed only if the stored chain still matches the previous (validly
 * signed) checkpoint, so a chain rewritten since is never vouched for.
 */
export async function sealChain(
  chain: AuditChain,
  signingKey: string,
  now = Date.now(),
): Promise<SealResult> {
  let sealed = 0;
  for (let lost = 0; lost < MAX_LOST_RACES; ) {
    const n = await sealBatch(chain, now);
    if (n === 0) break;
    if (n < 0) lost++;
    else sealed += n;
  }
  // The checkpoint before the head: a racing sealer may sign a later head between the reads,
  // never one beyond what this run then reads.
  const current = await chain.readCheckpoint();
  const head = await readHead(chain);
  const result: SealResult = { scope: chain.scope, sealed, head, checkpoint: current };
  if (head.seq === 0) return result;
  if (current) {
    const refused = await extendRefusal(chain, signingKey, current, head.seq);
    if (refused) return { ...result, refused };
    if (current.seq === head.seq) return result;
  }
  const cp = await signCheckpoint(
    signingKey,
    { scope: chain.scope, seq: head.seq, head_hash: head.hash },
    now,
  );
  await chain.writeCheckpoint(cp, now);
  return { ...result, checkpoint: cp };
}

/** Why `current` may not be extended to `headSeq`, or null when it may. */
async function extendRefusal(
  chain: AuditChain,
  signingKey: string,
  current: Checkpoint,
  headSeq: number,
): Promise<string | null> {
  if (current.scope !== chain.scope || !(await checkpointSigned(signingKey, current))) {
    return "the stored checkpoint's signature does not verify";
  }
  if (current.seq > headSeq) return "the chain is shorter than its checkpoint";
  let failure: string | null = null;
  await walkChain(chain, current.seq - 1, (link) => {
    if (link.seq === current.seq && link.stored !== current.head_hash) {
      failure = "the chain no longer matches its checkpoint";
    } else if (link.seq > current.seq && link.problem) {
      failure = `entry ${link.seq} is ${link.problem}`;
    }
    return failure === null;
  });
  return failure;
}

interface Link {
  seq: number;
  entryId: string;
  row: EntryRow | null;
  stored: string;
  /** The stored hash of the link before (GENESIS_HASH for seq 1; null after a gap). */
  prevStored: string | null;
  problem: "deleted" | "altered" | "gap" | null;
}

/** Seals after `afterSeq` in order, each with its entry (null when the entry is gone). */
function sealsAfter(chain: AuditChain, afterSeq: number, limit: number) {
  const { seals, log } = chain;
  return chain.orm
    .select({ seal: seals, entry: log })
    .from(seals)
    .leftJoin(log, eq(log.id, seals.entryId))
    .where(gt(seals.seq, afterSeq))
    .orderBy(asc(seals.seq))
    .limit(limit);
}

/** The stored chain hash at `seq` (GENESIS_HASH at 0), or null when there is no such seal. */
async function storedHash(chain: AuditChain, seq: number): Promise<string | null> {
  if (seq === 0) return GENESIS_HASH;
  const [row] = await chain.orm
    .select({ hash: chain.seals.chainHash })
    .from(chain.seals)
    .where(eq(chain.seals.seq, seq));
  return row?.hash ?? null;
}

async function pendingEntries(chain: AuditChain) {
  const [pending] = await chain.orm
    .select({
      count: sql<number>`count(*)`,
      oldest: sql<number | null>`min(${chain.log.createdAt})`,
    })
    .from(chain.log)
    .where(unsealed(chain));
  return { count: pending?.count ?? 0, oldest_created_at: pending?.oldest ?? null };
}

export interface ChainPage {
  /** The chain hash before the first entry (64 zeros at the start; null: no seal `afterSeq`). */
  prev_hash: string | null;
  /** Sealed entries in order; `entry` is every column by SQL name, null when it was removed. */
  entries: { seq: number; chain_hash: string; entry: Record<string, unknown> | null }[];
  next_after_seq: number | null;
  /** Entries not sealed yet, so not in any page. */
  unsealed: number;
}

/** Up to `limit` sealed entries after `afterSeq`, as a download hands them out. */
export async function chainPage(
  chain: AuditChain,
  afterSeq: number,
  limit: number,
): Promise<ChainPage> {
  const rows = await sealsAfter(chain, afterSeq, limit + 1);
  const page = rows.slice(0, limit);
  return {
    prev_hash: await storedHash(chain, afterSeq),
    entries: page.map(({ seal, entry }) => ({
      seq: seal.seq,
      chain_hash: seal.chainHash,
      entry: entry ? entryColumns(chain.log, entry) : null,
    })),
    next_after_seq: rows.length > limit ? (page.at(-1)?.seal.seq ?? null) : null,
    unsealed: (await pendingEntries(chain)).count,
  };
}

/**
 * Walks the seals after `afterSeq` in order, each joined to its entry and checked against the
 * stored hash before it. `visit` returns false to stop.
 */
async function walkChain(
  chain: AuditChain,
  afterSeq: number,
  visit: (link: Link) => boolean | Promise<boolean>,
): Promise<void> {
  const { log } = chain;
  let prevStored = await storedHash(chain, afterSeq);
  let expected = afterSeq + 1;
  for (let cursor = afterSeq; ; ) {
    const page = await sealsAfter(chain, cursor, VERIFY_PAGE);
    for (const { seal, entry } of page) {
      const gap = seal.seq !== expected;
      let problem: Link["problem"] = gap ? "gap" : null;
      if (!entry) problem = "deleted";
      else if (prevStored !== null) {
        const h = await chainHash(prevStored, seal.seq, canonicalEntry(log, entry));
        if (h !== seal.chainHash && !gap) problem = "altered";
      }
      const link: Link = {
        seq: seal.seq,
        entryId: seal.entryId,
        row: entry,
        stored: seal.chainHash,
        prevStored: gap ? null : prevStored,
        problem,
      };
      if (!(await visit(link))) return;
      prevStored = seal.chainHash;
      expected = seal.seq + 1;
    }
    const last = page.at(-1);
    if (!last || page.length < VERIFY_PAGE) return;
    cursor = last.seal.seq;
  }
}

export type AuditProblem =
  /** The entry's content no longer hashes to its seal. */
  | "altered"
  /** The entry is gone: its seal names it (entryId), or seal and entry are gone (a seq gap). */
  | "deleted"
  /** The entry is intact but sealed at another position (seals swapped). */
  | "reordered"
  /** Sealed long after entries created later than it: inserted after the fact. */
  | "backdated"
  /** Sealed entries the checkpoint counted are missing from the end of the chain. */
  | "truncated"
  /** The checkpoint's signature fails, or the chain at its seq hashes to another head. */
  | "checkpoint_mismatch"
  /** Sealed entries but no checkpoint to vouch for them. */
  | "checkpoint_missing";

export interface AuditFinding {
  entryId: string | null;
  seq: number | null;
  problem: AuditProblem;
  detail: string;
}

export interface AuditVerification {
  scope: string;
  ok: boolean;
  /** Sealed entries present, and the chain's last seq and hash as stored. */
  sealed: number;
  head: { seq: number; hash: string };
  checkpoint: Checkpoint | null;
  /** Entries not sealed yet: not covered by the proof (the sealer's bound is in ADR 012). */
  unsealed: { count: number; oldest_created_at: number | null };
  findings: AuditFinding[];
}

/** Checks every link, then the chain against its signed checkpoint. Reads only. */
export async function verifyChain(
  chain: AuditChain,
  signingKey: string,
): Promise<AuditVerification> {
  const findings: AuditFinding[] = [];
  const mismatches: Link[] = [];
  const cp = await chain.readCheckpoint();
  const { log } = chain;
  let sealed = 0;
  let head = { seq: 0, hash: GENESIS_HASH };
  // The chain recomputed from the entries alone, from genesis: what the checkpoint signed.
  let recomputed: string | null = GENESIS_HASH;
  let recomputedAtCheckpoint: string | null = null;
  let newest = Number.NEGATIVE_INFINITY;
  let expected = 1;
  await walkChain(chain, 0, async (link) => {
    for (; expected < link.seq; expected++) {
      findings.push({
        entryId: null,
        seq: expected,
        problem: "deleted",
        detail: `seal ${expected} and its entry were removed`,
      });
      recomputed = null;
    }
    expected = link.seq + 1;
    head = { seq: link.seq, hash: link.stored };
    if (link.row) {
      sealed++;
      const createdAt = link.row.createdAt as number;
      if (createdAt < newest - BACKDATE_TOLERANCE_MS) {
        findings.push({
          entryId: link.entryId,
          seq: link.seq,
          problem: "backdated",
          detail: `created ${new Date(createdAt).toISOString()}, sealed after an entry created ${new Date(newest).toISOString()}`,
        });
      }
      newest = Math.max(newest, createdAt);
      recomputed =
        recomputed === null
          ? null
          : await chainHash(recomputed, link.seq, canonicalEntry(log, link.row));
    } else recomputed = null;
    if (link.problem === "deleted") {
      findings.push({
        entryId: link.entryId,
        seq: link.seq,
        problem: "deleted",
        detail: `entry ${link.entryId} sealed at ${link.seq} is gone`,
      });
    } else if (link.problem === "altered") mismatches.push(link);
    if (cp && link.seq === cp.seq) recomputedAtCheckpoint = recomputed;
    return true;
  });
  findings.push(...(await classifyMismatches(log, mismatches)));

  if (cp) {
    const earlier = findings.some((f) => f.seq !== null && f.seq <= cp.seq);
    if (cp.scope !== chain.scope || !(await checkpointSigned(signingKey, cp))) {
      findings.push({
        entryId: null,
        seq: cp.seq,
        problem: "checkpoint_mismatch",
        detail: "the checkpoint's signature does not verify with the audit key",
      });
    } else if (cp.seq > head.seq) {
      findings.push({
        entryId: null,
        seq: head.seq + 1,
        problem: "truncated",
        detail: `the checkpoint counts ${cp.seq} sealed entries; the chain ends at ${head.seq}`,
      });
    } else if (!earlier && recomputedAtCheckpoint !== cp.head_hash) {
      findings.push({
        entryId: null,
        seq: cp.seq,
        problem: "checkpoint_mismatch",
        detail: `the entries up to ${cp.seq} hash to another head than the signed checkpoint of ${new Date(cp.signed_at).toISOString()}: the chain was rewritten`,
      });
    }
  } else if (head.seq > 0) {
    findings.push({
      entryId: null,
      seq: head.seq,
      problem: "checkpoint_missing",
      detail: "sealed entries but no signed checkpoint",
    });
  }

  const unsealedEntries = await pendingEntries(chain);
  findings.sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
  return {
    scope: chain.scope,
    ok: findings.length === 0,
    sealed,
    head,
    checkpoint: cp,
    unsealed: unsealedEntries,
    findings,
  };
}

/**
 * An altered link whose entry hashes correctly at another altered position was moved
 * (`reordered`); any other is `altered`.
 */
async function classifyMismatches(log: LogTable, links: Link[]): Promise<AuditFinding[]> {
  const findings: AuditFinding[] = [];
  for (const link of links) {
    let movedTo: number | null = null;
    for (const other of links) {
      if (other === link || !link.row || other.prevStored === null) continue;
      const h = await chainHash(other.prevStored, other.seq, canonicalEntry(log, link.row));
      if (h === other.stored) movedTo = other.seq;
    }
    findings.push(
      movedTo === null
        ? {
            entryId: link.entryId,
            seq: link.seq,
            problem: "altered",
            detail: `entry ${link.entryId} no longer matches its seal ${link.seq}`,
          }
        : {
            entryId: link.entryId,
            seq: link.seq,
            problem: "reordered",
            detail: `entry ${link.entryId} was sealed at ${movedTo} and now sits at ${link.seq}`,
          },
    );
  }
  return findings;
}
