import { auditEntry, auditEntryWhere, insertWhere, tenantDb } from "@tenantry/core";
import { base64url, randomSecret, sha256Hex } from "@tenantry/core/crypto";
import { newId } from "@tenantry/schema";
import { users, userTenants } from "@tenantry/schema/control";
import { members, ssoConnections, ssoDomains, ssoLogins } from "@tenantry/schema/tenant";
import { and, eq, gt, isNotNull, isNull, sql } from "drizzle-orm";
import { z } from "zod";
import type { TenantRequestContext } from "../../context";
import { controlDb } from "../../db/control-db";
import { UnauthorizedError, ValidationError } from "../../errors";
import { open } from "../../lib/secret-box";
import { reserveUnit } from "../limits";
import { createSession } from "../sessions";
import { ssoDiscoverBudget, takeAttempt } from "../throttle";
import { encryptionKey, redirectUri, type SsoConnection } from "./connections";
import { type IdClaims, IdTokenError, verifyIdToken } from "./id-token";
import { sweepLogins } from "./login-sweep";
import { connectionForEmail, domainOf } from "./realm";

/** How long a started sign-in may take at the provider. */
const LOGIN_TTL_MS = 10 * 60_000;
/** Stored for SSO-only identities: no password verifies against it (not a PBKDF2 string). */
const NO_PASSWORD = "sso-only";

/** Home-realm discovery: whether the sign-in page should offer SSO for this email. */
export async function discoverSso({
  ctx,
  input,
}: {
  ctx: TenantRequestContext;
  input: { email: string };
}) {
  // Public, and each lookup reads the tenant's domains: bounded per client on this tenant.
  await takeAttempt(
    ctx.env,
    [ssoDiscoverBudget(ctx.tenant.id, ctx.ip)],
    "Too many single sign-on lookups. Try again later.",
  );
  const connection = await connectionForEmail(ctx.env, ctx.tenant, input.email);
  return { sso: connection !== null, connection_name: connection?.name ?? null };
}

async function pkceChallenge(verifier: string) {
  return base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
}

/**
 * Starts an SP-initiated sign-in: state, nonce and the PKCE verifier stay server-side (only the
 * state's hash is the key), and the browser is sent to the provider with the S256 challenge.
 */
/** Starts of an SSO sign-in per client per tenant: people retry, scripts filling the table don't. */
export const SSO_START_LIMIT = { max: 30, windowMs: 15 * 60_000 } as const;

export async function startSso({
  ctx,
  input,
}: {
  ctx: TenantRequestContext;
  input: { email: string };
}) {
  // Public, and each start stores a sign-in row: bounded per client on this tenant.
  await takeAttempt(
    ctx.env,
    [{ key: `sso-start:${ctx.tenant.id}:${ctx.ip ?? "unknown"}`, ...SSO_START_LIMIT }],
    "Too many single sign-on attempts. Try again later.",
  );
  const connection = await connectionForEmail(ctx.env, ctx.tenant, input.email);
  if (!connection)
    throw new ValidationError("No single sign-on serves this email's domain here.", [
      { path: "body.email", message: "no SSO for this domain" },
    ]);
  return { authorization_url: await authorizationUrl(ctx, connection, "sign_in", input.email) };
}

/**
 * The provider's authorization URL for one sign-in of `purpose`; its state, nonce and PKCE
 * verifier are stored first.
 */
export async function authorizationUrl(
  ctx: TenantRequestContext,
  connection: SsoConnection,
  purpose: "sign_in" | "test",
  loginHint?: string,
) {
  if (!connection.authorizationEndpoint || !connection.clientId)
    throw new ValidationError("The connection is incomplete.");
  const state = randomSecret();
  const nonce = randomSecret();
  const codeVerifier = randomSecret(48);
  const now = Date.now();
  const db = tenantDb(ctx.env, ctx.tenant).orm;
  await db.batch([
    db.insert(ssoLogins).values({
      stateHash: await sha256Hex(state),
      tenantId: ctx.tenant.id,
      connectionId: connection.id,
      purpose,
      nonce,
      codeVerifier,
      expiresAt: now + LOGIN_TTL_MS,
      createdAt: now,
    }),
    sweepLogins(db, now),
  ]);
  const url = new URL(connection.authorizationEndpoint);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("client_id", connection.clientId);
  url.searchParams.set("redirect_uri", redirectUri(ctx.env, ctx.tenant.slug));
  url.searchParams.set("scope", "openid email profile");
  url.searchParams.set("state", state);
  url.searchParams.set("nonce", nonce);
  url.searchParams.set("code_challenge", await pkceChallenge(codeVerifier));
  url.searchParams.set("code_challenge_method", "S256");
  if (loginHint) url.searchParams.set("login_hint", loginHint);
  return url.toString();
}

/** A refusal: the reason goes to the tenant's audit log, the caller gets one plain 401. */
class Refusal extends Error {
  constructor(
    readonly reason: string,
    readonly connectionId: string | null,
  ) {
    super(reason);
  }
}

const TokenResponseSchema = z.object({ id_token: z.string().min(1) });

async function exchangeCode(
  ctx: TenantRequestContext,
  connection: SsoConnection,
  code: string,
  codeVerifier: string,
) {
  if (!connection.tokenEndpoint || !connection.clientId || !connection.clientSecretEnc)
    throw new Refusal("connection_incomplete", connection.id);
  const secret = await open(
    encryptionKey(ctx.env),
    `${ctx.tenant.id}:${connection.id}`,
    connection.clientSecretEnc,
  );
  const res = await fetch(connection.tokenEndpoint, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      accept: "application/json",
      // client_secret_basic: the form-encoded id and secret (RFC 6749 §2.3.1).
      authorization: `Basic ${btoa(`${encodeURIComponent(connection.clientId)}:${encodeURIComponent(secret)}`)}`,
    },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code,
      redirect_uri: redirectUri(ctx.env, ctx.tenant.slug),
      code_verifier: codeVerifier,
    }),
  }).catch(() => null);
  if (!res?.ok) {
    await res?.body?.cancel();
    throw new Refusal(`token_exchange_failed_${res ? res.status : "unreachable"}`, connection.id);
  }
  const body = TokenResponseSchema.safeParse(await res.json().catch(() => null));
  if (!body.success) throw new Refusal("token_response_without_id_token", connection.id);
  return body.data.id_token;
}

/** The sign-in's row, consumed once: a replayed or expired state matches nothing. */
async function consumeLogin(ctx: TenantRequestContext, state: string) {
  const now = Date.now();
  const [row] = await tenantDb(ctx.env, ctx.tenant)
    .orm.update(ssoLogins)
    .set({ usedAt: now })
    .where(
      and(
        eq(ssoLogins.stateHash, await sha256Hex(state)),
        isNull(ssoLogins.usedAt),
        gt(ssoLogins.expiresAt, now),
      ),
    )
    .returning();
  if (!row) throw new Refusal("invalid_or_used_state", null);
  return row;
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
 * The member behind the claims: an existing one, or one created just in time with the
 * connection's default role. A new member takes a seat through the meter first (exact under
 * concurrency), given back if the member is not written; the member row is conditional on no
 * member of that user existing yet, so two parallel first sign-ins make one member.
 */
async function memberFor(
  ctx: TenantRequestContext,
  connection: SsoConnection,
  claims: IdClaims,
  userId: string,
  now: number,
) {
  const db = tenantDb(ctx.env, ctx.tenant);
  const existing = await db.orm.select().from(members).where(eq(members.userId, userId)).get();
  if (existing) return { member: existing, created: false };
  const seat = await reserveUnit(ctx.env, ctx.tenant.id, "seats").catch((err) => {
    throw new Refusal(`no_seat: ${(err as Error).message}`, connection.id);
  });
  try {
    const member = {
      id: newId("member"),
      tenantId: ctx.tenant.id,
      userId,
      email: claims.email,
      role: connection.defaultRole,
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

/**
 * The callback: consumes the state, exchanges the code with the PKCE verifier, verifies the ID
 * token, checks its email is on a verified domain of this very connection, and signs the member
 * in (created just in time) with an ordinary tenant session. Every outcome is audited; every
 * refusal is the same 401 to the browser, its reason only in the audit log.
 */
export async function finishSso({
  ctx,
  input,
}: {
  ctx: TenantRequestContext;
  input: { state: string; code: string };
}) {
  const db = tenantDb(ctx.env, ctx.tenant);
  const system = { db, requestId: ctx.requestId, ip: ctx.ip, actor: { type: "system", id: "sso" } };
  try {
    const login = await consumeLogin(ctx, input.state);
    const connection = await db.orm
      .select()
      .from(ssoConnections)
      .where(eq(ssoConnections.id, login.connectionId))
      .get();
    const testing = login.purpose === "test";
    if (
      !connection ||
      (!connection.enabled && !testing) ||
      !connection.issuer ||
      !connection.clientId ||
      !connection.jwksUri
    )
      throw new Refusal("connection_disabled", login.connectionId);
    const idToken = await exchangeCode(ctx, connection, input.code, login.codeVerifier);
    const claims = await verifyIdToken(idToken, {
      issuer: connection.issuer,
      clientId: connection.clientId,
      jwksUri: connection.jwksUri,
      nonce: login.nonce,
    }).catch((err) => {
      throw err instanceof IdTokenError ? new Refusal(err.reason, connection.id) : err;
    });
    const served = await db.orm
      .select({ domain: ssoDomains.domain })
      .from(ssoDomains)
      .where(
        and(
          eq(ssoDomains.domain, domainOf(claims.email)),
          eq(ssoDomains.connectionId, connection.id),
          isNotNull(ssoDomains.verifiedAt),
        ),
      )
      .get();
    if (testing) {
      // A test signs nobody in: it shows what the provider sent, and whether it would be let in.
      await auditEntry(system, {
        action: "sso_connection.test",
        target: { type: "sso_connection", id: connection.id },
        after: { email: claims.email, domain_served: served !== undefined },
      });
      return { test: { claims, domain_served: served !== undefined } } as const;
    }
    if (!served) throw new Refusal("email_domain_not_served", connection.id);
    const now = Date.now();
    const user = await identityFor(ctx, claims.email, now);
    const { member, created } = await memberFor(ctx, connection, claims, user.id, now);
    await auditEntry(
      { ...system, actor: { type: "user", id: user.id } },
      {
        action: "sso.sign_in",
        target: { type: "sso_connection", id: connection.id },
        after: {
          email: claims.email,
          subject: claims.sub,
          member_id: member.id,
          just_in_time: created,
        },
      },
    );
    return { session: await createSession({ ctx, input: { userId: user.id } }) } as const;
  } catch (err) {
    if (!(err instanceof Refusal)) throw err;
    await auditEntry(system, {
      action: "sso.refuse",
      target: { type: "sso_connection", id: err.connectionId ?? "unknown" },
      after: { reason: err.reason },
    });
    throw new UnauthorizedError("Single sign-on failed. Start again from the sign-in page.");
  }
}
