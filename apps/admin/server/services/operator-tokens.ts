import { controlDb, ProblemError } from "@tenantry/core";
import { randomSecret, sha256Hex } from "@tenantry/core/crypto";
import { newId } from "@tenantry/schema";
import { type OperatorRole, operatorTokens } from "@tenantry/schema/control";
import { and, desc, eq, isNull } from "drizzle-orm";
import { operatorAuditEntry } from "../audit";
import { forbidden, OPERATOR_TOKEN_PREFIX } from "../auth";
import type { OperatorContext } from "../context";
import { can } from "../roles";

/** Operator tokens live at most this long: automation renews them, leaks age out. */
export const MAX_TOKEN_DAYS = 90;

export type OperatorTokenView = {
  id: string;
  name: string;
  role: OperatorRole;
  createdAt: number;
  expiresAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
};

const view = {
  id: operatorTokens.id,
  name: operatorTokens.name,
  role: operatorTokens.role,
  createdAt: operatorTokens.createdAt,
  expiresAt: operatorTokens.expiresAt,
  lastUsedAt: operatorTokens.lastUsedAt,
  revokedAt: operatorTokens.revokedAt,
};

/**
 * A new API token of the calling operator, returned once. Its role is the role the caller acts
 * with (a token cannot mint a stronger one) or read_only.
 */
export async function createOperatorToken({
  ctx,
  input,
}: {
  ctx: OperatorContext;
  input: { name: string; role: OperatorRole; expiresInDays: number; reason: string };
}): Promise<OperatorTokenView & { token: string }> {
  if (input.role !== ctx.operator.role && input.role !== "read_only") {
    throw new ProblemError(
      403,
      "role_too_high",
      "Forbidden",
      `A token carries your role (${ctx.operator.role}) or read_only.`,
    );
  }
  if (input.expiresInDays < 1 || input.expiresInDays > MAX_TOKEN_DAYS) {
    throw new ProblemError(
      400,
      "invalid_request",
      "Invalid request",
      `Tokens expire within 1 to ${MAX_TOKEN_DAYS} days.`,
    );
  }
  const db = controlDb(ctx.env);
  const token = `${OPERATOR_TOKEN_PREFIX}${randomSecret()}`;
  const now = Date.now();
  const row = {
    id: newId("operatorToken"),
    name: input.name,
    role: input.role,
    createdAt: now,
    expiresAt: now + input.expiresInDays * 86_400_000,
    lastUsedAt: null,
    revokedAt: null,
  };
  await db.batch([
    db.insert(operatorTokens).values({
      ...row,
      operatorId: ctx.operator.id,
      secretHash: await sha256Hex(token),
    }),
    operatorAuditEntry(ctx, db, {
      action: "operator_token.create",
      target: { type: "operator_token", id: row.id },
      reason: input.reason,
      after: {
        operatorId: ctx.operator.id,
        name: row.name,
        role: row.role,
        expiresAt: row.expiresAt,
      },
    }),
  ]);
  return { ...row, token };
}

/** The tokens of an operator (the caller's own unless they manage operators), newest first. */
export async function listOperatorTokens({
  ctx,
  input = {},
}: {
  ctx: OperatorContext;
  input?: { operatorId?: string };
}): Promise<OperatorTokenView[]> {
  const operatorId = ownerOrManaged(ctx, input.operatorId);
  return controlDb(ctx.env)
    .select(view)
    .from(operatorTokens)
    .where(eq(operatorTokens.operatorId, operatorId))
    .orderBy(desc(operatorTokens.id));
}

/** Revokes one token: the caller's own, or anyone's for an operator manager. */
export async function revokeOperatorToken({
  ctx,
  input,
}: {
  ctx: OperatorContext;
  input: { id: string; reason: string };
}): Promise<void> {
  const db = controlDb(ctx.env);
  const token = await db
    .select({ ...view, operatorId: operatorTokens.operatorId })
    .from(operatorTokens)
    .where(eq(operatorTokens.id, input.id))
    .get();
  // Someone else's token is as absent as a missing one to an operator who cannot manage others.
  if (!token || ownerOrManaged(ctx, token.operatorId, true) !== token.operatorId) {
    throw new ProblemError(404, "not_found", "Not found", "The token does not exist.");
  }
  if (token.revokedAt) return;
  const now = Date.now();
  await db.batch([
    db
      .update(operatorTokens)
      .set({ revokedAt: now })
      .where(and(eq(operatorTokens.id, token.id), isNull(operatorTokens.revokedAt))),
    operatorAuditEntry(ctx, db, {
      action: "operator_token.revoke",
      target: { type: "operator_token", id: token.id },
      reason: input.reason,
      before: { operatorId: token.operatorId, name: token.name, revokedAt: null },
      after: { revokedAt: now },
    }),
  ]);
}

/** Whose tokens a call may see: the caller's, or any operator's for an operator manager. */
function ownerOrManaged(ctx: OperatorContext, operatorId?: string, quiet = false): string {
  if (!operatorId || operatorId === ctx.operator.id) return ctx.operator.id;
  if (can(ctx.operator.role, "operators:manage")) return operatorId;
  if (quiet) return ctx.operator.id;
  throw forbidden("operators:manage");
}
