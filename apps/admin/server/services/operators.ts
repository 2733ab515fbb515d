import { controlDb, ProblemError } from "@tenantry/core";
import { randomSecret, sha256Hex } from "@tenantry/core/crypto";
import { newTotpSecret } from "@tenantry/core/totp";
import { newId } from "@tenantry/schema";
import {
  type OperatorRole,
  operatorSessions,
  operators,
  operatorTokens,
} from "@tenantry/schema/control";
import { and, asc, eq, isNull } from "drizzle-orm";
import { operatorAuditEntry } from "../audit";
import type { OperatorContext } from "../context";
import { adminConfig } from "../env";

/** How long an invitation or TOTP-reset link works. */
export const SETUP_LINK_HOURS = 72;

const view = {
  id: operators.id,
  email: operators.email,
  name: operators.name,
  role: operators.role,
  status: operators.status,
  createdAt: operators.createdAt,
};

export type OperatorView = {
  id: string;
  email: string;
  name: string;
  role: OperatorRole;
  status: "active" | "disabled";
  createdAt: number;
};

export async function listOperators({ ctx }: { ctx: OperatorContext }): Promise<OperatorView[]> {
  return controlDb(ctx.env).select(view).from(operators).orderBy(asc(operators.email));
}

/**
 * A fresh one-time setup link with a new TOTP secret to enrol. Behind Cloudflare Access there is
 * no password realm (Access signs operators in), so no link: the record maps the email only.
 */
async function newSetup(ctx: OperatorContext, now: number) {
  if (adminConfig(ctx.env).ACCESS_AUD) return { columns: {}, setupUrl: null };
  const token = randomSecret();
  const cfg = adminConfig(ctx.env);
  return {
    columns: {
      totpSecret: newTotpSecret(),
      totpLastStep: null,
      setupTokenHash: await sha256Hex(token),
      setupExpiresAt: now + SETUP_LINK_HOURS * 3_600_000,
    },
    setupUrl: `${cfg.PUBLIC_SCHEME}://admin.${cfg.BASE_DOMAIN}/setup/${token}`,
  };
}

/**
 * Creates an operator account. The inviter gets the one-time setup link to hand over (it is
 * shown, not mailed: it opens an admin account, so it travels by a channel the inviter trusts).
 */
export async function inviteOperator({
  ctx,
  input,
}: {
  ctx: OperatorContext;
  input: { email: string; name: string; role: OperatorRole; reason: string };
}): Promise<{ operator: OperatorView; setupUrl: string | null }> {
  const db = controlDb(ctx.env);
  const email = input.email.trim().toLowerCase();
  const now = Date.now();
  const setup = await newSetup(ctx, now);
  const operator: OperatorView = {
    id: newId("operator"),
    email,
    name: input.name,
    role: input.role,
    status: "active",
    createdAt: now,
  };
  try {
    await db.batch([
      db
        .insert(operators)
        .values({ ...operator, ...setup.columns, invitedBy: ctx.operator.id, updatedAt: now }),
      operatorAuditEntry(ctx, db, {
        action: "operator.invite",
        target: { type: "operator", id: operator.id },
        reason: input.reason,
        after: { email, name: input.name, role: input.role },
      }),
    ]);
  } catch (err) {
    // The unique email decides between parallel invitations; the batch left nothing behind.
    if (String((err as Error).cause ?? err).includes("UNIQUE constraint failed: operators.email")) {
      throw new ProblemError(409, "operator_exists", "Conflict", `An operator ${email} exists.`);
    }
    throw err;
  }
  return { operator, setupUrl: setup.setupUrl };
}

async function managedOperator(ctx: OperatorContext, id: string): Promise<OperatorView> {
  if (id === ctx.operator.id) {
    // An admin cannot lock themselves out; another platform admin can.
    throw new ProblemError(403, "self_change", "Forbidden", "Ask another platform admin.");
  }
  const op = await controlDb(ctx.env)
    .select(view)
    .from(operators)
    .where(eq(operators.id, id))
    .get();
  if (!op) throw new ProblemError(404, "not_found", "Not found", "The operator does not exist.");
  return op;
}

/** The statements that end every session and token of an operator. */
function revokeAll(ctx: OperatorContext, id: string, now: number) {
  const db = controlDb(ctx.env);
  return [
    db
      .update(operatorSessions)
      .set({ revokedAt: now })
      .where(and(eq(operatorSessions.operatorId, id), isNull(operatorSessions.revokedAt))),
    db
      .update(operatorTokens)
      .set({ revokedAt: now })
      .where(and(eq(operatorTokens.operatorId, id), isNull(operatorTokens.revokedAt))),
  ] as const;
}

/**
 * Changes an operator's role or status, or revokes all their sessions and tokens. Disabling and
 * any role change also end their sessions and tokens: nothing keeps acting with the old grant.
 */
export async function updateOperator({
  ctx,
  input,
}: {
  ctx: OperatorContext;
  input: {
    id: string;
    role?: OperatorRole;
    status?: "active" | "disabled";
    revokeCredentials?: boolean;
    reason: string;
  };
}): Promise<OperatorView> {
  const before = await managedOperator(ctx, input.id);
  const db = controlDb(ctx.env);
  const now = Date.now();
  const after = {
    ...before,
    role: input.role ?? before.role,
    status: input.status ?? before.status,
  };
  const revoke =
    input.revokeCredentials || after.role !== before.role || after.status === "disabled";
  await db.batch([
    db
      .update(operators)
      .set({ role: after.role, status: after.status, updatedAt: now })
      .where(eq(operators.id, before.id)),
    ...(revoke ? revokeAll(ctx, before.id, now) : []),
    operatorAuditEntry(ctx, db, {
      action: "operator.update",
      target: { type: "operator", id: before.id },
      reason: input.reason,
      before: { role: before.role, status: before.status },
      after: { role: after.role, status: after.status, credentialsRevoked: revoke },
    }),
  ]);
  return after;
}

/**
 * Clears an operator's TOTP enrolment: their sessions and tokens end, and they cannot sign in
 * until they complete a new setup link (password and a new TOTP secret). Enrolment needs the
 * link, not just the password, so a stolen password cannot enrol its own authenticator.
 */
export async function resetOperatorTotp({
  ctx,
  input,
}: {
  ctx: OperatorContext;
  input: { id: string; reason: string };
}): Promise<{ setupUrl: string | null }> {
  const op = await managedOperator(ctx, input.id);
  const db = controlDb(ctx.env);
  const now = Date.now();
  const setup = await newSetup(ctx, now);
  await db.batch([
    db
      .update(operators)
      .set({ ...setup.columns, updatedAt: now })
      .where(eq(operators.id, op.id)),
    ...revokeAll(ctx, op.id, now),
    operatorAuditEntry(ctx, db, {
      action: "operator.reset_totp",
      target: { type: "operator", id: op.id },
      reason: input.reason,
      after: { totp: "reset", credentialsRevoked: true },
    }),
  ]);
  return { setupUrl: setup.setupUrl };
}
