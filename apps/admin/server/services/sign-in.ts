import {
  controlDb,
  ProblemError,
  refundAttempt,
  takeAttempt,
  ValidationError,
} from "@tenantry/core";
import {
  burnPasswordCheck,
  hashPassword,
  randomSecret,
  sha256Hex,
  verifyPassword,
} from "@tenantry/core/crypto";
import { totpStep } from "@tenantry/core/totp";
import { newId } from "@tenantry/schema";
import { operatorSessions, operators } from "@tenantry/schema/control";
import { and, eq, gt, isNull, lt, or } from "drizzle-orm";
import { accessEnabled } from "../access";
import { SESSION_MAX_AGE_MS, unauthorized } from "../auth";
import type { AdminRequestContext, OperatorContext } from "../context";

const MINUTE = 60_000;

/** Failed operator sign-ins allowed per account and per client address, per 15 minutes. */
export const OPERATOR_SIGN_IN_LIMITS = {
  account: { max: 5, windowMs: 15 * MINUTE },
  client: { max: 20, windowMs: 15 * MINUTE },
} as const;

/** Operator passwords: long, since they guard the whole platform (outside Access). */
export const MIN_PASSWORD_LENGTH = 12;

const INVALID = "Invalid email, password or code.";

export interface NewOperatorSession {
  /** The cookie's value; only its SHA-256 is stored. */
  secret: string;
  expiresAt: number;
}

/**
 * Password + TOTP sign-in (development, tests, deployments without Access). Every failure is
 * the same 401 after the same work, so neither accounts nor which factor failed are revealed.
 * The attempt is taken before any check (one atomic upsert per budget), and a code is accepted
 * once: the step is recorded by an update guarded on the previous step.
 */
export async function signIn({
  ctx,
  input,
}: {
  ctx: AdminRequestContext;
  input: { email: string; password: string; code: string };
}): Promise<NewOperatorSession> {
  if (accessEnabled(ctx.env)) {
    throw new ProblemError(403, "access_only", "Forbidden", "Sign in through Cloudflare Access.");
  }
  const email = input.email.trim().toLowerCase();
  const taken = await takeAttempt(
    ctx.env,
    [
      { key: `operator-signin:account:${email}`, ...OPERATOR_SIGN_IN_LIMITS.account },
      { key: `operator-signin:client:${ctx.ip ?? "unknown"}`, ...OPERATOR_SIGN_IN_LIMITS.client },
    ],
    "Too many failed sign-in attempts. Try again later.",
  );
  const db = controlDb(ctx.env);
  const op = await db.select().from(operators).where(eq(operators.email, email)).get();
  const passwordOk = op?.passwordHash
    ? await verifyPassword(input.password, op.passwordHash)
    : await burnPasswordCheck(input.password);
  // A pending setup (invitation, TOTP reset) must be completed through its link first.
  const ready = op && passwordOk && op.status === "active" && op.totpSecret && !op.setupTokenHash;
  const now = Date.now();
  const step = ready && op.totpSecret ? totpStep(op.totpSecret, input.code, now) : null;
  if (!op || step === null) throw unauthorized(INVALID);
  const [claimed] = await db
    .update(operators)
    .set({ totpLastStep: step })
    .where(
      and(
        eq(operators.id, op.id),
        or(isNull(operators.totpLastStep), lt(operators.totpLastStep, step)),
      ),
    )
    .returning({ id: operators.id });
  if (!claimed) throw unauthorized(INVALID);
  await refundAttempt(ctx.env, taken, { clear: [0], refund: [1] });
  return createOperatorSession(ctx, op.id, now);
}

async function createOperatorSession(
  ctx: AdminRequestContext,
  operatorId: string,
  now: number,
): Promise<NewOperatorSession> {
  const secret = randomSecret();
  const expiresAt = now + SESSION_MAX_AGE_MS;
  await controlDb(ctx.env)
    .insert(operatorSessions)
    .values({
      id: newId("operatorSession"),
      operatorId,
      secretHash: await sha256Hex(secret),
      csrfToken: randomSecret(),
      createdAt: now,
      lastSeenAt: now,
      expiresAt,
    });
  return { secret, expiresAt };
}

/** Ends the session the request came with (other sessions of the operator live on). */
export async function signOut({ ctx }: { ctx: OperatorContext }): Promise<void> {
  if (ctx.operator.via.type !== "session") return;
  await controlDb(ctx.env)
    .update(operatorSessions)
    .set({ revokedAt: Date.now() })
    .where(and(eq(operatorSessions.id, ctx.operator.via.id), isNull(operatorSessions.revokedAt)));
}

/**
 * Completes a setup link (invitation or TOTP reset): sets the password and enrols the TOTP
 * secret shown on the link's page, proven by a current code. Claiming the link is one guarded
 * update, so a link works once even when submitted twice at the same time.
 */
export async function completeSetup({
  ctx,
  input,
}: {
  ctx: AdminRequestContext;
  input: { token: string; password: string; code: string };
}): Promise<void> {
  if (input.password.length < MIN_PASSWORD_LENGTH) {
    throw new ValidationError(`Use a password of at least ${MIN_PASSWORD_LENGTH} characters.`);
  }
  const db = controlDb(ctx.env);
  const hash = await sha256Hex(input.token);
  const now = Date.now();
  const op = await pendingSetup(ctx, input.token);
  const step = op?.totpSecret ? totpStep(op.totpSecret, input.code, now) : null;
  if (!op || step === null) throw unauthorized("The code does not match the secret shown.");
  const [done] = await db
    .update(operators)
    .set({
      passwordHash: await hashPassword(input.password),
      totpLastStep: step,
      setupTokenHash: null,
      setupExpiresAt: null,
      updatedAt: now,
    })
    .where(and(eq(operators.setupTokenHash, hash), gt(operators.setupExpiresAt, now)))
    .returning({ id: operators.id });
  if (!done) throw unauthorized("This setup link has been used or has expired.");
}

/** The operator a live setup link belongs to (with the TOTP secret to enrol), or undefined. */
export async function pendingSetup(ctx: AdminRequestContext, token: string) {
  return controlDb(ctx.env)
    .select({ email: operators.email, name: operators.name, totpSecret: operators.totpSecret })
    .from(operators)
    .where(
      and(
        eq(operators.setupTokenHash, await sha256Hex(token)),
        gt(operators.setupExpiresAt, Date.now()),
        eq(operators.status, "active"),
      ),
    )
    .get();
}
