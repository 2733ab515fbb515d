import { newId } from "@tenantry/schema";
import {
  type OperatorRole,
  SUPPORT_SESSION_STATUSES,
  type SupportMode,
  type SupportSessionStatus,
  supportSessions,
  tenants,
} from "@tenantry/schema/control";
import { members } from "@tenantry/schema/tenant";
import { and, asc, desc, eq, gt, inArray, lte, ne, type SQL, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { importJWK, type JWK, SignJWT } from "jose";
import { z } from "zod";
import { auditEntry } from "./audit";
import { controlDb } from "./control-db";
import type { CoreEnv } from "./env";
import { log } from "./log";
import { notification } from "./notifications";
import { ProblemError } from "./problem";
import { tenantDb } from "./tenant-db";

/**
 * Support access (impersonation), the verbs the admin worker calls (issue 10, section 4). An
 * operator acts in one tenant as one of its users, read-only unless a second platform admin
 * approves write access, for at most 60 minutes. The tenant's own audit log records the start
 * and the end (here) and every request made with a support token (the API worker), and its
 * owners are mailed. The admin worker writes its own operator-audit entry beside each call.
 */

/** Roles that may start support access; write access needs `platform_admin`. */
const SUPPORT_ROLES: readonly OperatorRole[] = ["support", "platform_admin"];

export const SUPPORT_MAX_MINUTES = 60;
export const SUPPORT_DEFAULT_MINUTES = 15;
/** A support token lives at most this long; the operator mints another within the session. */
export const SUPPORT_TOKEN_TTL_SECONDS = 900;
/** What tells a support token from an access token: its own audience and `typ`. */
export const SUPPORT_TOKEN_AUDIENCE = "tenantry:support";
export const SUPPORT_TOKEN_TYPE = "support+jwt";
const ALG = "ES256";

/** What the MAIL queue carries for support access; the API worker renders and sends it. */
export const SupportMailMessageSchema = z.object({
  kind: z.literal("support_access"),
  event: z.enum(["started", "ended"]),
  tenant_id: z.string().min(1),
  support_session_id: z.string().min(1),
});
export type SupportMailMessage = z.infer<typeof SupportMailMessageSchema>;

export interface SupportAccessEnv extends CoreEnv {
  MAIL_QUEUE: Queue<SupportMailMessage>;
  /**
   * ES256 private key (JWK JSON) that signs support tokens; the API holds its public half.
   * Without it, sessions can be started but no token minted (503).
   */
  SUPPORT_SIGNING_KEY?: string;
  /** The API worker's JWT_ISSUER: it accepts support tokens from this issuer only. */
  JWT_ISSUER: string;
}

export interface SupportAccessContext {
  env: SupportAccessEnv;
  requestId: string;
  ip: string | null;
  operator: { id: string; email: string; role: OperatorRole };
}

/**
 * A change a verb is about to commit, for statements the caller commits with it (the admin
 * worker's operator-audit entry): the session before (null for a start) and after it.
 */
export interface SupportSessionChange {
  before: SupportSessionView | null;
  after: SupportSessionView;
  /**
   * Holds, where the caller's statements run, exactly when the change is applied: make them
   * conditional on it (`insertWhere`). They run just before the change, with its guard.
   */
  applies: SQL;
}

/** Statements to commit in the same `db.batch` as a verb's change to `support_sessions`. */
export type AlsoInBatch = (
  db: ReturnType<typeof controlDb>,
  change: SupportSessionChange,
) => BatchItem<"sqlite">[];

export const StartSupportAccessInputSchema = z.object({
  tenantId: z.string().startsWith("ten_"),
  /** The user to act as; the tenant's first owner when omitted. */
  userId: z.string().startsWith("usr_").optional(),
  reason: z.string().trim().min(3).max(500),
  ticketId: z.string().trim().min(1).max(100).optional(),
  mode: z.enum(["read", "write"]).default("read"),
  minutes: z.number().int().min(1).max(SUPPORT_MAX_MINUTES).default(SUPPORT_DEFAULT_MINUTES),
});
export type StartSupportAccessInput = z.input<typeof StartSupportAccessInputSchema>;

const SessionInputSchema = z.object({ sessionId: z.string().startsWith("sup_") });

export type SupportSession = typeof supportSessions.$inferSelect;

export interface SupportSessionView {
  id: string;
  tenantId: string;
  operatorId: string;
  operatorEmail: string;
  userId: string;
  reason: string;
  ticketId: string | null;
  mode: SupportMode;
  status: SupportSessionStatus;
  requestedAt: number;
  approvedBy: string | null;
  startedAt: number | null;
  expiresAt: number | null;
  endedAt: number | null;
  endedBy: string | null;
}

function view(row: SupportSession): SupportSessionView {
  const { durationMinutes: _minutes, ...rest } = row;
  return rest;
}

const problem = {
  invalid: (detail: string) => new ProblemError(400, "invalid_request", "Invalid request", detail),
  forbidden: (detail: string, code = "forbidden") =>
    new ProblemError(403, code, "Forbidden", detail),
  notFound: (what: string) =>
    new ProblemError(404, "not_found", "Not found", `The ${what} does not exist.`),
  conflict: (code: string, detail: string) => new ProblemError(409, code, "Conflict", detail),
};

function parse<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw problem.invalid(z.prettifyError(result.error));
  return result.data;
}

/** What recording in the tenant needs: no signing key (the expiry sweep runs without one). */
type RecordEnv = Pick<SupportAccessEnv, "CONTROL_DB" | "MAIL_QUEUE"> & CoreEnv;
type RecordCtx = { env: RecordEnv; requestId: string; ip: string | null };

async function loadTenant(env: RecordEnv, tenantId: string) {
  const tenant = await controlDb(env)
    .select({
      id: tenants.id,
      status: tenants.status,
      databaseBinding: tenants.databaseBinding,
    })
    .from(tenants)
    .where(eq(tenants.id, tenantId))
    .get();
  if (!tenant) throw problem.notFound("tenant");
  if (!tenant.databaseBinding || (tenant.status !== "active" && tenant.status !== "suspended")) {
    throw problem.conflict("tenant_unavailable", `The tenant is ${tenant.status}.`);
  }
  return tenant;
}

/**
 * Commits `change` (an insert or a guarded update of `support_sessions`) with the caller's
 * statements in one batch. The caller's statements go first, conditional on `applies`, the
 * change's own guard: evaluated in the same transaction just before the change, it holds
 * exactly when the change applies. (A check after the change could not tell this attempt from
 * a racing twin that wrote the same values in the same millisecond.)
 */
async function commit<T>(
  env: SupportAccessEnv,
  change: BatchItem<"sqlite">,
  applies: SQL,
  views: Omit<SupportSessionChange, "applies">,
  alsoInBatch: AlsoInBatch | undefined,
): Promise<T> {
  const db = controlDb(env);
  const extra = alsoInBatch?.(db, { ...views, applies }) ?? [];
  const results = await db.batch([...extra, change] as [BatchItem<"sqlite">]);
  return results.at(-1) as T;
}

async function loadSession(env: SupportAccessEnv, id: string): Promise<SupportSession> {
  const row = await controlDb(env)
    .select()
    .from(supportSessions)
    .where(eq(supportSessions.id, id))
    .get();
  if (!row) throw problem.notFound("support session");
  return row;
}

/**
 * Writes the tenant-side entry of a start or an end, then queues the owners' mail. Actor and
 * target are the support session: the entry names the operator, the reason and the ticket.
 */
async function recordInTenant(
  ctx: RecordCtx,
  session: SupportSession,
  event: { started: true } | { ended: true; by: string },
) {
  const tenant = await loadTenant(ctx.env, session.tenantId);
  const db = tenantDb(ctx.env, tenant);
  const ref = { type: "support_session", id: session.id };
  const started = "started" in event;
  const kind = started ? "support.started" : "support.ended";
  const audit = auditEntry(
    { db, requestId: ctx.requestId, ip: ctx.ip, actor: { type: "support", id: session.id } },
    {
      action: started ? "support.start" : "support.end",
      target: ref,
      after: {
        operator: { id: session.operatorId, email: session.operatorEmail },
        user_id: session.userId,
        reason: session.reason,
        ticket_id: session.ticketId,
        mode: session.mode,
        expires_at: session.expiresAt && new Date(session.expiresAt).toISOString(),
        ...("ended" in event && {
          ended_by: event.by,
          ended_at: session.endedAt && new Date(session.endedAt).toISOString(),
        }),
      },
    },
  );
  // Keyed by the session: a start or an end is told once, whoever records it.
  await db.orm.batch([
    audit,
    notification(db, {
      kind,
      dedupeKey: `${kind}:${session.id}`,
      title: started
        ? `Support access started by ${session.operatorEmail}`
        : `Support access ended (${session.operatorEmail})`,
      body: started
        ? `${session.mode === "write" ? "Read and write" : "Read-only"} access. Reason: ${session.reason}`
        : `Ended by ${"by" in event ? event.by : "the operator"}.`,
      link: "/audit-log",
    }),
  ]);
  await ctx.env.MAIL_QUEUE.send({
    kind: "support_access",
    event: started ? "started" : "ended",
    tenant_id: session.tenantId,
    support_session_id: session.id,
  });
}

/**
 * Starts support access to a tenant. Read mode is active at once; write mode needs a platform
 * admin and waits in `pending_approval` for a second one (`approveSupportAccess`). The clock
 * (`expires_at`) starts when the session becomes active.
 */
export async function startSupportAccess({
  ctx,
  input,
  alsoInBatch,
}: {
  ctx: SupportAccessContext;
  input: StartSupportAccessInput;
  alsoInBatch?: AlsoInBatch;
}): Promise<SupportSessionView> {
  const { tenantId, userId, reason, ticketId, mode, minutes } = parse(
    StartSupportAccessInputSchema,
    input,
  );
  if (!SUPPORT_ROLES.includes(ctx.operator.role)) {
    throw problem.forbidden("Support access needs the support or platform_admin role.");
  }
  if (mode === "write" && ctx.operator.role !== "platform_admin") {
    throw problem.forbidden("Write access needs the platform_admin role.");
  }
  const tenant = await loadTenant(ctx.env, tenantId);
  const member = await tenantDb(ctx.env, tenant)
    .orm.select({ userId: members.userId })
    .from(members)
    .where(
      and(
        eq(members.tenantId, tenant.id),
        userId ? eq(members.userId, userId) : eq(members.role, "owner"),
      ),
    )
    .orderBy(asc(members.createdAt))
    .get();
  if (!member) throw problem.notFound(userId ? "member" : "owner");
  const now = Date.now();
  const active = mode === "read";
  const row: SupportSession = {
    id: newId("supportSession", now),
    tenantId: tenant.id,
    operatorId: ctx.operator.id,
    operatorEmail: ctx.operator.email,
    userId: member.userId,
    reason,
    ticketId: ticketId ?? null,
    mode,
    status: active ? "active" : "pending_approval",
    requestedAt: now,
    approvedBy: null,
    startedAt: active ? now : null,
    expiresAt: active ? now + minutes * 60_000 : null,
    durationMinutes: minutes,
    endedAt: null,
    endedBy: null,
  };
  await commit(
    ctx.env,
    controlDb(ctx.env).insert(supportSessions).values(row),
    sql`NOT EXISTS (SELECT 1 FROM ${supportSessions} WHERE ${supportSessions.id} = ${row.id})`,
    { before: null, after: view(row) },
    alsoInBatch,
  );
  if (active) await activated(ctx, row);
  return view(row);
}

/**
 * The tenant must see every session that became active: if its audit entry cannot be written,
 * the session is ended again before the error surfaces, and no token is ever minted for it.
 */
async function activated(ctx: SupportAccessContext, row: SupportSession) {
  try {
    await recordInTenant(ctx, row, { started: true });
  } catch (err) {
    await controlDb(ctx.env)
      .update(supportSessions)
      .set({ status: "ended", endedAt: Date.now(), endedBy: "system" })
      .where(eq(supportSessions.id, row.id));
    throw err;
  }
}

/**
 * A second platform admin approves pending write access. One guarded UPDATE (still pending, not
 * the requester's own, asked for within the hour): of two approvals, or an approval racing an
 * end, exactly one changes the row.
 */
export async function approveSupportAccess({
  ctx,
  input,
  alsoInBatch,
}: {
  ctx: SupportAccessContext;
  input: { sessionId: string };
  alsoInBatch?: AlsoInBatch;
}): Promise<SupportSessionView> {
  const { sessionId } = parse(SessionInputSchema, input);
  if (ctx.operator.role !== "platform_admin") {
    throw problem.forbidden("Approving write access needs the platform_admin role.");
  }
  const pending = await loadSession(ctx.env, sessionId);
  if (pending.operatorId === ctx.operator.id) {
    throw problem.forbidden(
      "A second operator must approve write access.",
      "support_approval_by_requester",
    );
  }
  const now = Date.now();
  const set = {
    status: "active",
    approvedBy: ctx.operator.id,
    startedAt: now,
    expiresAt: now + pending.durationMinutes * 60_000,
  } as const;
  const guard = and(
    eq(supportSessions.id, sessionId),
    eq(supportSessions.status, "pending_approval"),
    ne(supportSessions.operatorId, ctx.operator.id),
    gt(supportSessions.requestedAt, now - SUPPORT_MAX_MINUTES * 60_000),
  ) as SQL;
  const [row] = await commit<SupportSession[]>(
    ctx.env,
    controlDb(ctx.env).update(supportSessions).set(set).where(guard).returning(),
    sql`EXISTS (SELECT 1 FROM ${supportSessions} WHERE ${guard})`,
    { before: view(pending), after: view({ ...pending, ...set }) },
    alsoInBatch,
  );
  if (!row) {
    throw problem.conflict(
      "support_session_not_pending",
      "The support session is no longer waiting for approval (approved, ended or expired).",
    );
  }
  await activated(ctx, row);
  return view(row);
}

/**
 * Ends support access (the requester, or any platform admin). One guarded UPDATE: of two ends,
 * exactly one writes the tenant's `support.end` entry and mails the owners. Ending a request
 * that was never approved records nothing in the tenant: nothing happened there.
 */
export async function endSupportAccess({
  ctx,
  input,
  alsoInBatch,
}: {
  ctx: SupportAccessContext;
  input: { sessionId: string };
  alsoInBatch?: AlsoInBatch;
}): Promise<SupportSessionView> {
  const { sessionId } = parse(SessionInputSchema, input);
  const session = await loadSession(ctx.env, sessionId);
  if (session.operatorId !== ctx.operator.id && ctx.operator.role !== "platform_admin") {
    throw problem.forbidden("Only the requesting operator or a platform admin can end it.");
  }
  const set = { status: "ended", endedAt: Date.now(), endedBy: ctx.operator.id } as const;
  const guard = and(
    eq(supportSessions.id, sessionId),
    inArray(supportSessions.status, ["pending_approval", "active"]),
  ) as SQL;
  const [row] = await commit<SupportSession[]>(
    ctx.env,
    controlDb(ctx.env).update(supportSessions).set(set).where(guard).returning(),
    sql`EXISTS (SELECT 1 FROM ${supportSessions} WHERE ${guard})`,
    { before: view(session), after: view({ ...session, ...set }) },
    alsoInBatch,
  );
  if (!row) throw problem.conflict("support_session_ended", "The support session already ended.");
  if (row.startedAt !== null) {
    await recordInTenant(ctx, row, { ended: true, by: ctx.operator.email });
  }
  return view(row);
}

const ListInputSchema = z.object({
  tenantId: z.string().startsWith("ten_").optional(),
  status: z.enum(SUPPORT_SESSION_STATUSES).optional(),
  limit: z.number().int().min(1).max(100).default(50),
});

/**
 * Support sessions, newest first (ids are time-sortable), optionally of one tenant and in one
 * status: what waits for approval, what is active. Any operator may look.
 */
export async function listSupportSessions({
  ctx,
  input,
}: {
  ctx: SupportAccessContext;
  input: z.input<typeof ListInputSchema>;
}): Promise<SupportSessionView[]> {
  const { tenantId, status, limit } = parse(ListInputSchema, input);
  const rows = await controlDb(ctx.env)
    .select()
    .from(supportSessions)
    .where(
      and(
        tenantId ? eq(supportSessions.tenantId, tenantId) : undefined,
        status ? eq(supportSessions.status, status) : undefined,
      ),
    )
    .orderBy(desc(supportSessions.id))
    .limit(limit);
  return rows.map(view);
}

const EXPIRY_BATCH = 25;

/**
 * The scheduled sweep: active sessions past their expiry are ended (`ended_by` "expiry"), so the
 * tenant's log and its owners see the end of every session, not only of those an operator
 * ended. Tokens already stopped working at the expiry; this only records it. The same guarded
 * UPDATE as `endSupportAccess`, so a sweep racing an operator's end records one end.
 */
export async function endExpiredSupportAccess(env: RecordEnv, requestId: string): Promise<number> {
  const now = Date.now();
  const expired = await controlDb(env)
    .select({ id: supportSessions.id })
    .from(supportSessions)
    .where(and(eq(supportSessions.status, "active"), lte(supportSessions.expiresAt, now)))
    .limit(EXPIRY_BATCH);
  let ended = 0;
  for (const { id } of expired) {
    const [row] = await controlDb(env)
      .update(supportSessions)
      .set({ status: "ended", endedAt: now, endedBy: "expiry" })
      .where(and(eq(supportSessions.id, id), eq(supportSessions.status, "active")))
      .returning();
    if (!row) continue;
    try {
      await recordInTenant({ env, requestId, ip: null }, row, { ended: true, by: "expiry" });
      ended++;
    } catch (err) {
      // One tenant's database failing must not stop the sweep for the others.
      log.forTenant(row.tenantId).error("support access end not recorded", {
        support_session_id: row.id,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }
  return ended;
}

// Imported signing keys, per isolate, by their JWK text: an optimisation only.
const signingKeys = new Map<string, Promise<{ kid: string; key: CryptoKey }>>();

function signingKey(jwkText: string) {
  let key = signingKeys.get(jwkText);
  if (!key) {
    key = (async () => {
      const jwk = JSON.parse(jwkText) as JWK;
      return { kid: jwk.kid ?? "support", key: (await importJWK(jwk, ALG)) as CryptoKey };
    })();
    signingKeys.set(jwkText, key);
  }
  return key;
}

/**
 * A support token for the operator's own active session: ES256, `sub` the impersonated user,
 * `act` the operator (RFC 8693), `sid` the session, expiring at the session's end or in 15
 * minutes, whichever is first. The API worker re-checks the session on use.
 */
export async function mintSupportToken({
  ctx,
  input,
}: {
  ctx: SupportAccessContext;
  input: { sessionId: string };
}): Promise<{ token: string; expiresAt: number }> {
  const { sessionId } = parse(SessionInputSchema, input);
  const session = await loadSession(ctx.env, sessionId);
  if (session.operatorId !== ctx.operator.id) {
    throw problem.forbidden("Only the operator who started support access can use it.");
  }
  const now = Date.now();
  if (session.status !== "active" || session.expiresAt === null || session.expiresAt <= now) {
    throw problem.conflict("support_session_inactive", "The support session is not active.");
  }
  const expiresAt = Math.min(session.expiresAt, now + SUPPORT_TOKEN_TTL_SECONDS * 1000);
  if (!ctx.env.SUPPORT_SIGNING_KEY) {
    throw new ProblemError(
      503,
      "support_access_unconfigured",
      "Support access is not configured",
      "This deployment has no SUPPORT_SIGNING_KEY: no support token can be minted.",
    );
  }
  const { kid, key } = await signingKey(ctx.env.SUPPORT_SIGNING_KEY);
  const token = await new SignJWT({
    tid: session.tenantId,
    sid: session.id,
    mode: session.mode,
    act: { sub: `operator:${session.operatorId}`, email: session.operatorEmail },
  })
    .setProtectedHeader({ alg: ALG, kid, typ: SUPPORT_TOKEN_TYPE })
    .setSubject(session.userId)
    .setIssuer(ctx.env.JWT_ISSUER)
    .setAudience(SUPPORT_TOKEN_AUDIENCE)
    .setIssuedAt(Math.floor(now / 1000))
    .setExpirationTime(Math.floor(expiresAt / 1000))
    .sign(key);
  return { token, expiresAt };
}
