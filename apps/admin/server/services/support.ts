import {
  type AlsoInBatch,
  approveSupportAccess,
  controlDb,
  endSupportAccess,
  listSupportSessions,
  mintSupportToken,
  type StartSupportAccessInput,
  type SupportAccessContext,
  type SupportSessionChange,
  type SupportSessionView,
  startSupportAccess,
  ValidationError,
} from "@tenantry/core";
import {
  type PlatformAuditAction,
  type SupportSessionStatus,
  supportSessions,
  tenants,
} from "@tenantry/schema/control";
import { eq, inArray, or } from "drizzle-orm";
import { z } from "zod";
import { operatorAuditEntry, operatorAuditEntryWhere } from "../audit";
import { assertCan } from "../auth";
import type { OperatorContext } from "../context";
import { adminConfig } from "../env";

/**
 * Support access from the admin side: core's verbs (packages/core/src/support-access.ts, ADR
 * 011), each mutation committed with its operator-audit entry in the same batch.
 */

function supportCtx(ctx: OperatorContext): SupportAccessContext {
  return { env: ctx.env, requestId: ctx.requestId, ip: ctx.ip, operator: ctx.operator };
}

/** What the operator audit keeps of a session (no token ever exists in it). */
function snapshot(s: SupportSessionView | null) {
  if (!s) return null;
  return {
    status: s.status,
    mode: s.mode,
    user_id: s.userId,
    ticket_id: s.ticketId,
    approved_by: s.approvedBy,
    expires_at: s.expiresAt && new Date(s.expiresAt).toISOString(),
    ended_by: s.endedBy,
  };
}

/**
 * The operator-audit entry of one support mutation, written only if the change applies. Its
 * reason: the request's for a start, the deciding operator's own for an approval or an end.
 */
function audited(ctx: OperatorContext, action: PlatformAuditAction, reason?: string): AlsoInBatch {
  return (db, change: SupportSessionChange) => [
    operatorAuditEntryWhere(
      ctx,
      db,
      {
        action,
        tenantId: change.after.tenantId,
        target: { type: "support_session", id: change.after.id },
        reason: reason ?? change.after.reason,
        before: snapshot(change.before),
        after: snapshot(change.after),
      },
      change.applies,
    ),
  ];
}

export interface SupportTenant {
  id: string;
  slug: string;
  name: string;
  status: string;
}

/** The tenant a support page is about, by slug or id; null when none is. */
export async function findSupportTenant({
  ctx,
  input,
}: {
  ctx: OperatorContext;
  input: { tenant: string };
}): Promise<SupportTenant | null> {
  const key = input.tenant.trim();
  const row = await controlDb(ctx.env)
    .select({ id: tenants.id, slug: tenants.slug, name: tenants.name, status: tenants.status })
    .from(tenants)
    .where(or(eq(tenants.id, key), eq(tenants.slug, key.toLowerCase())))
    .get();
  return row ?? null;
}

/** Starts support access; write mode needs `support:write` (core also requires a second admin). */
export async function startSupport({
  ctx,
  input,
}: {
  ctx: OperatorContext;
  input: StartSupportAccessInput;
}): Promise<SupportSessionRow> {
  if (input.mode === "write") assertCan(ctx.operator, "support:write");
  const session = await startSupportAccess({
    ctx: supportCtx(ctx),
    input,
    alsoInBatch: audited(ctx, "support.start"),
  });
  return (await withSlugs(ctx, [session]))[0]!;
}

/** Approving or ending states its own reason, as every operator mutation does. */
const DecisionSchema = z.object({
  sessionId: z.string().startsWith("sup_"),
  reason: z.string().trim().min(3).max(500),
});
export type SupportDecisionInput = z.input<typeof DecisionSchema>;

function decision(input: SupportDecisionInput) {
  const parsed = DecisionSchema.safeParse(input);
  if (!parsed.success) throw ValidationError.fromZod(parsed.error);
  return parsed.data;
}

/** A second platform admin approves pending write access. */
export async function approveSupport({
  ctx,
  input,
}: {
  ctx: OperatorContext;
  input: SupportDecisionInput;
}): Promise<SupportSessionRow> {
  assertCan(ctx.operator, "support:write");
  const { sessionId, reason } = decision(input);
  const session = await approveSupportAccess({
    ctx: supportCtx(ctx),
    input: { sessionId },
    alsoInBatch: audited(ctx, "support.approve", reason),
  });
  return (await withSlugs(ctx, [session]))[0]!;
}

/** Ends support access (the requester or a platform admin); a pending request is cancelled. */
export async function endSupport({
  ctx,
  input,
}: {
  ctx: OperatorContext;
  input: SupportDecisionInput;
}): Promise<SupportSessionRow> {
  const { sessionId, reason } = decision(input);
  const session = await endSupportAccess({
    ctx: supportCtx(ctx),
    input: { sessionId },
    alsoInBatch: audited(ctx, "support.end", reason),
  });
  return (await withSlugs(ctx, [session]))[0]!;
}

export type SupportSessionRow = SupportSessionView & { tenantSlug: string | null };

/** Support sessions newest first, of one tenant or platform-wide, with their tenants' slugs. */
export async function listSupport({
  ctx,
  input,
}: {
  ctx: OperatorContext;
  input: { tenantId?: string; status?: SupportSessionStatus; limit?: number };
}): Promise<SupportSessionRow[]> {
  return withSlugs(ctx, await listSupportSessions({ ctx: supportCtx(ctx), input }));
}

/** Sessions with their tenants' slugs (one query for all). */
async function withSlugs(
  ctx: OperatorContext,
  sessions: SupportSessionView[],
): Promise<SupportSessionRow[]> {
  const ids = [...new Set(sessions.map((s) => s.tenantId))];
  const slugs = new Map(
    ids.length
      ? (
          await controlDb(ctx.env)
            .select({ id: tenants.id, slug: tenants.slug })
            .from(tenants)
            .where(inArray(tenants.id, ids))
        ).map((t) => [t.id, t.slug])
      : [],
  );
  return sessions.map((s) => ({ ...s, tenantSlug: slugs.get(s.tenantId) ?? null }));
}

/** One support session with its tenant's slug (the session page); null when none is. */
export async function getSupport({
  ctx,
  input,
}: {
  ctx: OperatorContext;
  input: { sessionId: string };
}): Promise<SupportSessionRow | null> {
  const row = await controlDb(ctx.env)
    .select({ session: supportSessions, tenantSlug: tenants.slug })
    .from(supportSessions)
    .leftJoin(tenants, eq(tenants.id, supportSessions.tenantId))
    .where(eq(supportSessions.id, input.sessionId))
    .get();
  if (!row) return null;
  const { durationMinutes: _minutes, ...session } = row.session;
  return { ...session, tenantSlug: row.tenantSlug };
}

export interface SupportToken {
  token: string;
  expiresAt: number;
  /** Where the token works: `<slug>.<BASE_DOMAIN>`, as Bearer on `/v1/...`. */
  tenantHost: string;
  tenantUrl: string;
}

/**
 * A support token for the operator's own active session, recorded as `support.token` (the
 * token itself never enters the log): who held a credential into which tenant, until when. The
 * entry's reason is the operator's own when given, else the session's. Core refuses first
 * (not the requester, not active), so a refusal writes nothing; a token whose entry cannot be
 * written is never handed out.
 */
export async function mintSupport({
  ctx,
  input,
}: {
  ctx: OperatorContext;
  input: { sessionId: string; reason?: string };
}): Promise<SupportToken> {
  const { token, expiresAt } = await mintSupportToken({
    ctx: supportCtx(ctx),
    input: { sessionId: input.sessionId },
  });
  const db = controlDb(ctx.env);
  // Minted, so the session exists and its tenant too.
  const { session, slug } = (await db
    .select({ session: supportSessions, slug: tenants.slug })
    .from(supportSessions)
    .innerJoin(tenants, eq(tenants.id, supportSessions.tenantId))
    .where(eq(supportSessions.id, input.sessionId))
    .get())!;
  await operatorAuditEntry(ctx, db, {
    action: "support.token",
    tenantId: session.tenantId,
    target: { type: "support_session", id: session.id },
    reason: input.reason?.trim() || session.reason,
    after: { mode: session.mode, expires_at: new Date(expiresAt).toISOString() },
  });
  const cfg = adminConfig(ctx.env);
  const tenantHost = `${slug}.${cfg.BASE_DOMAIN}`;
  return { token, expiresAt, tenantHost, tenantUrl: `${cfg.PUBLIC_SCHEME}://${tenantHost}` };
}
