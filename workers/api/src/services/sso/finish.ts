import { auditEntry, auditEntryWhere, insertWhere, log, tenantDb } from "@tenantry/core";
import { newId } from "@tenantry/schema";
import { users, userTenants } from "@tenantry/schema/control";
import { members, ssoDomains } from "@tenantry/schema/tenant";
import { and, eq, isNotNull, sql } from "drizzle-orm";
import type { TenantRequestContext } from "../../context";
import { controlDb } from "../../db/control-db";
import { UnauthorizedError } from "../../errors";
import { reserveUnit } from "../limits";
import { createSession } from "../sessions";
import type { SsoConnection } from "./model";
import { domainOf } from "./realm";
import { roleForClaims, syncMappedRole } from "./role-mapping";

/**
 * The end of every SSO sign-in, whatever the protocol: once OIDC (sign-in.ts) or SAML (saml.ts)
 * has verified who the provider says this is, the same domain check, just-in-time member, audit
 * and session follow here.
 */

/** How long a started sign-in (either protocol) may take at the provider. */
export const LOGIN_TTL_MS = 10 * 60_000;
/** Stored for SSO-only identities: no password verifies against it (not a PBKDF2 string). */
const NO_PASSWORD = "sso-only";

/** A refusal: the reason goes to the tenant's audit log, the caller gets one plain 401. */
export class Refusal extends Error {
  constructor(
    readonly reason: string,
    readonly connectionId: string | null,
    /** For the audit log only (e.g. which issuer a SAML response named), never the browser. */
    readonly detail?: string,
  ) {
    super(reason);
  }
}

/** Who the provider vouched for, after the protocol's own checks. */
export interface VerifiedIdentity {
  email: string;
  /** The provider's stable name for the user: the OIDC `sub`, the SAML NameID. */
  subject: string;
  /** What the provider said (ID token claims, SAML attributes): a test shows it, role mapping reads it. */
  claims: Record<string, unknown>;
}

/** The identity behind the email, created for an SSO-only user on first sign-in. */
async function identityFor(ctx: TenantRequestContext, email: string, now: number) {
  const control = controlDb(ctx.env);
  const existing = await control.select().from(users).where(eq(users.email, email)).get();
  if (existing) return existing;
  const created = {
    id: newId("user"),
    email,
    passwordHash: NO_PASSWORD,
    emailVerifiedAt: now,
    createdAt: now,
    updatedAt: now,
  };
  await control.insert(users).values(created).onConflictDoNothing();
  return (await control.select().from(users).where(eq(users.email, email)).get()) ?? created;
}

/**
 * The member behind the email: an existing one (its role following the connection's role
 * mapping, if any), or one created just in time with the role the claims map to (else the
 * connection's default role). A new member takes a seat through the meter first (exact under
 * concurrency), given back if the member is not written; the member row is conditional on no
 * member of that user existing yet, so two parallel first sign-ins make one member.
 */
async function memberFor(
  ctx: TenantRequestContext,
  connection: SsoConnection,
  identity: VerifiedIdentity,
  userId: string,
  now: number,
) {
  const db = tenantDb(ctx.env, ctx.tenant);
  const existing = await db.orm.select().from(members).where(eq(members.userId, userId)).get();
  if (existing)
    return {
      member: await syncMappedRole(ctx, connection, existing, identity.claims),
      created: false,
    };
  const seat = await reserveUnit(ctx.env, ctx.tenant.id, "seats").catch((err) => {
    throw new Refusal(`no_seat: ${(err as Error).message}`, connection.id);
  });
  try {
    const member = {
      id: newId("member"),
      tenantId: ctx.tenant.id,
      userId,
      email: identity.email,
      role: roleForClaims(connection, identity.claims),
      createdAt: now,
      updatedAt: now,
    };
    const mine = sql`EXISTS (SELECT 1 FROM ${members} WHERE ${members.id} = ${member.id})`;
    await db.orm.batch([
      insertWhere(
        db.orm,
        members,
        member,
        sql`NOT EXISTS (SELECT 1 FROM ${members} WHERE ${members.userId} = ${userId})`,
      ),
      auditEntryWhere(
        { db, requestId: ctx.requestId, ip: ctx.ip, actor: { type: "user", id: userId } },
        {
          action: "member.join",
          target: { type: "member", id: member.id },
          after: {
            email: member.email,
            role: member.role,
            via: "sso",
            connection_id: connection.id,
          },
        },
        mine,
      ),
    ]);
    // Of parallel first sign-ins one member row was written: whose it is decides who keeps a seat.
    const written = await db.orm.select().from(members).where(eq(members.userId, userId)).get();
    if (!written) throw new Refusal("member_not_created", connection.id);
    if (written.id !== member.id) {
      await seat.release();
      return { member: written, created: false };
    }
    await seat.settle();
    await controlDb(ctx.env)
      .insert(userTenants)
      .values({ userId, tenantId: ctx.tenant.id, createdAt: now })
      .onConflictDoNothing();
    return { member, created: true };
  } catch (err) {
    await seat.release();
    throw err;
  }
}

const systemActor = (ctx: TenantRequestContext) => ({
  db: tenantDb(ctx.env, ctx.tenant),
  requestId: ctx.requestId,
  ip: ctx.ip,
  actor: { type: "system", id: "sso" },
});

/**
 * Lets the verified identity in: its email must be on a verified domain of this very
 * connection; then the member (created just in time) gets an ordinary tenant session. A test
 * sign-in stops before that and returns what the provider sent.
 */
export async function admit(
  ctx: TenantRequestContext,
  connection: SsoConnection,
  purpose: "sign_in" | "test",
  identity: VerifiedIdentity,
) {
  const db = tenantDb(ctx.env, ctx.tenant);
  const served = await db.orm
    .select({ domain: ssoDomains.domain })
    .from(ssoDomains)
    .where(
      and(
        eq(ssoDomains.domain, domainOf(identity.email)),
        eq(ssoDomains.connectionId, connection.id),
        isNotNull(ssoDomains.verifiedAt),
      ),
    )
    .get();
  if (purpose === "test") {
    // A test signs nobody in: it shows what the provider sent, and whether it would be let in.
    await auditEntry(systemActor(ctx), {
      action: "sso_connection.test",
      target: { type: "sso_connection", id: connection.id },
      after: { email: identity.email, domain_served: served !== undefined },
    });
    return { test: { claims: identity.claims, domain_served: served !== undefined } } as const;
  }
  if (!served) throw new Refusal("email_domain_not_served", connection.id);
  const now = Date.now();
  const user = await identityFor(ctx, identity.email, now);
  const { member, created } = await memberFor(ctx, connection, identity, user.id, now);
  await auditEntry(
    { ...systemActor(ctx), actor: { type: "user", id: user.id } },
    {
      action: "sso.sign_in",
      target: { type: "sso_connection", id: connection.id },
      after: {
        protocol: connection.protocol,
        email: identity.email,
        subject: identity.subject,
        member_id: member.id,
        just_in_time: created,
      },
    },
  );
  return {
    session: await createSession({ ctx, input: { userId: user.id, via: "sso" } }),
  } as const;
}

/**
 * Runs a sign-in's finish: every Refusal is audited (`sso.refuse` with its reason) and becomes
 * the same plain 401, so the browser learns nothing about why.
 */
export async function auditedRefusals<T>(ctx: TenantRequestContext, finish: () => Promise<T>) {
  try {
    return await finish();
  } catch (err) {
    if (!(err instanceof Refusal)) throw err;
    // The operators' logs get the reason too (the tenant's audit log is the tenant's to read).
    log.forTenant(ctx.tenant.id).warn("sso sign-in refused", {
      reason: err.reason,
      connection_id: err.connectionId,
      request_id: ctx.requestId,
      ...(err.detail ? { detail: err.detail } : {}),
    });
    await auditEntry(systemActor(ctx), {
      action: "sso.refuse",
      target: { type: "sso_connection", id: err.connectionId ?? "unknown" },
      after: { reason: err.reason, ...(err.detail ? { detail: err.detail } : {}) },
    });
    throw new UnauthorizedError("Single sign-on failed. Start again from the sign-in page.");
  }
}
