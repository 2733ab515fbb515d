import { tenantDb } from "@tenantry/core";
import { base64url, randomSecret, sha256Hex } from "@tenantry/core/crypto";
import { ssoConnections, ssoLogins } from "@tenantry/schema/tenant";
import { and, eq, gt, isNull } from "drizzle-orm";
import { z } from "zod";
import type { ServiceContext, TenantRequestContext } from "../../context";
import { ValidationError } from "../../errors";
import { open } from "../../lib/secret-box";
import { ssoDiscoverBudget, ssoFinishBudget, ssoStartBudget, takeAttempt } from "../throttle";
import { encryptionKey, findConnection, redirectUri } from "./connections";
import { admit, auditedRefusals, LOGIN_TTL_MS, Refusal } from "./finish";
import { IdTokenError, verifyIdToken } from "./id-token";
import { sweepLogins } from "./login-sweep";
import type { SsoConnection } from "./model";
import { connectionForEmail } from "./realm";
import { samlRequestUrl } from "./saml";

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
 * Starts an SP-initiated sign-in for the connection serving the email's domain: the browser is
 * sent to its provider (OIDC: state, nonce and PKCE verifier stored; SAML: an AuthnRequest).
 */
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
    [ssoStartBudget(ctx.tenant.id, ctx.ip)],
    "Too many single sign-on attempts. Try again later.",
  );
  const connection = await connectionForEmail(ctx.env, ctx.tenant, input.email);
  if (!connection)
    throw new ValidationError("No single sign-on serves this email's domain here.", [
      { path: "body.email", message: "no SSO for this domain" },
    ]);
  return { authorization_url: await signInUrl(ctx, connection, "sign_in", input.email) };
}

/** Where the browser goes to sign in with the connection's provider, per protocol. */
export function signInUrl(
  ctx: TenantRequestContext,
  connection: SsoConnection,
  purpose: "sign_in" | "test",
  loginHint?: string,
) {
  return connection.protocol === "saml"
    ? samlRequestUrl(ctx, connection, purpose)
    : authorizationUrl(ctx, connection, purpose, loginHint);
}

/**
 * Starts a test sign-in with the connection, on or off: the callback shows the ID token's
 * claims (and whether the email's domain is served) instead of signing anyone in.
 */
export async function testSsoConnection({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { id: string };
}) {
  const connection = await findConnection(ctx, input.id);
  return { authorization_url: await signInUrl(ctx, connection, "test") };
}

/**
 * The provider's authorization URL for one sign-in of `purpose`; its state, nonce and PKCE
 * verifier are stored first.
 */
async function authorizationUrl(
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
  await takeAttempt(
    ctx.env,
    [ssoFinishBudget(ctx.tenant.id, ctx.ip)],
    "Too many single sign-on attempts. Try again later.",
  );
  return auditedRefusals(ctx, async () => {
    const login = await consumeLogin(ctx, input.state);
    const connection = await tenantDb(ctx.env, ctx.tenant)
      .orm.select()
      .from(ssoConnections)
      .where(eq(ssoConnections.id, login.connectionId))
      .get();
    if (
      !connection ||
      (!connection.enabled && login.purpose !== "test") ||
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
    return admit(ctx, connection, login.purpose, {
      email: claims.email,
      subject: claims.sub,
      claims,
    });
  });
}
