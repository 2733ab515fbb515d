import { tenantDb } from "@tenantry/core";
import { randomSecret, sha256Hex } from "@tenantry/core/crypto";
import {
  decodeSamlResponse,
  importIdpCertificate,
  SamlError,
  type SeenAssertionIds,
  verifySamlResponse,
} from "@tenantry/saml";
import { samlAssertions, ssoConnections, ssoLogins } from "@tenantry/schema/tenant";
import { and, eq, gt, isNotNull, isNull, lte } from "drizzle-orm";
import { z } from "zod";
import type { TenantRequestContext } from "../../context";
import { ValidationError } from "../../errors";
import { ssoFinishBudget, takeAttempt } from "../throttle";
import { admit, auditedRefusals, LOGIN_TTL_MS, Refusal } from "./finish";
import { sweepLogins } from "./login-sweep";
import type { SsoConnection } from "./model";
import { EMAIL_NAME_ID, spValues } from "./saml-metadata";

/**
 * SAML 2.0 Web Browser SSO (issue 12): the AuthnRequest of an SP-initiated sign-in (HTTP-Redirect
 * binding, unsigned) and the ACS, which verifies the IdP's POSTed Response with @tenantry/saml
 * (ADR 021) and hands the identity to the sign-in finish both protocols share (finish.ts).
 */

const escapeXml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function deflateRawBase64(text: string) {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("deflate-raw"));
  const bytes = new Uint8Array(await new Response(stream).arrayBuffer());
  return btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join(""));
}

/**
 * Starts an SP-initiated SAML sign-in: the AuthnRequest's ID (the InResponseTo to expect) is
 * stored under the hash of the RelayState, and the browser is sent to the IdP's SSO URL with
 * the deflated request and the RelayState (SAML bindings §3.4).
 */
export async function samlRequestUrl(
  ctx: TenantRequestContext,
  connection: SsoConnection,
  purpose: "sign_in" | "test",
) {
  if (!connection.idpSsoUrl) throw new ValidationError("The connection is incomplete.");
  const sp = spValues(ctx.env, ctx.tenant.slug, connection.id);
  // An xs:ID must not start with a digit.
  const requestId = `_${randomSecret(20)}`;
  const relayState = randomSecret();
  const now = Date.now();
  const db = tenantDb(ctx.env, ctx.tenant).orm;
  await db.batch([
    db.insert(ssoLogins).values({
      stateHash: await sha256Hex(relayState),
      tenantId: ctx.tenant.id,
      connectionId: connection.id,
      purpose,
      nonce: "",
      codeVerifier: "",
      samlRequestId: requestId,
      expiresAt: now + LOGIN_TTL_MS,
      createdAt: now,
    }),
    sweepLogins(db, now),
  ]);
  const request =
    `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"` +
    ` ID="${requestId}" Version="2.0" IssueInstant="${new Date(now).toISOString()}"` +
    ` Destination="${escapeXml(connection.idpSsoUrl)}" AssertionConsumerServiceURL="${escapeXml(sp.acsUrl)}"` +
    ` ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST">` +
    `<saml:Issuer>${escapeXml(sp.entityId)}</saml:Issuer>` +
    `<samlp:NameIDPolicy Format="${EMAIL_NAME_ID}" AllowCreate="true"/>` +
    `</samlp:AuthnRequest>`;
  const url = new URL(connection.idpSsoUrl);
  url.searchParams.set("SAMLRequest", await deflateRawBase64(request));
  url.searchParams.set("RelayState", relayState);
  return url.toString();
}

/**
 * The replay memory: inserting the id is the atomic "first use" check (its primary key), and
 * ids whose assertions expired are deleted in the same batch, so the table stays small.
 */
function seenAssertions(ctx: TenantRequestContext, connectionId: string): SeenAssertionIds {
  return {
    async remember(assertionId, until) {
      const db = tenantDb(ctx.env, ctx.tenant).orm;
      const now = Date.now();
      const [, inserted] = await db.batch([
        db.delete(samlAssertions).where(lte(samlAssertions.expiresAt, now)),
        db
          .insert(samlAssertions)
          .values({
            assertionId,
            tenantId: ctx.tenant.id,
            connectionId,
            expiresAt: until.getTime(),
            createdAt: now,
          })
          .onConflictDoNothing()
          .returning({ id: samlAssertions.assertionId }),
      ]);
      return inserted.length === 1;
    },
  };
}

/**
 * The SP-initiated sign-in the RelayState names, if any, used or not: a replayed response then
 * verifies up to the assertion id and is refused as `replayed`. None (IdP-initiated, or an
 * unknown RelayState) means no request is pending.
 */
async function pendingLogin(ctx: TenantRequestContext, connectionId: string, relayState: string) {
  return tenantDb(ctx.env, ctx.tenant)
    .orm.select()
    .from(ssoLogins)
    .where(
      and(
        eq(ssoLogins.stateHash, await sha256Hex(relayState)),
        eq(ssoLogins.connectionId, connectionId),
        isNotNull(ssoLogins.samlRequestId),
        gt(ssoLogins.expiresAt, Date.now()),
      ),
    )
    .get();
}

const EmailSchema = z.email().toLowerCase();

/**
 * The ACS: verifies the Response against the connection (its certificates, our entity id and
 * ACS URL, the pending request's ID or IdP-initiated if allowed, replay), then signs the email's
 * member in through the shared finish. The email is the `email` attribute, else the NameID; the
 * attributes are the claims (the groups attribute also as `groups`).
 */
export async function finishSaml({
  ctx,
  input,
}: {
  ctx: TenantRequestContext;
  input: { connectionId: string; samlResponse: string; relayState: string | null };
}) {
  await takeAttempt(
    ctx.env,
    [ssoFinishBudget(ctx.tenant.id, ctx.ip)],
    "Too many single sign-on attempts. Try again later.",
  );
  return auditedRefusals(ctx, async () => {
    const db = tenantDb(ctx.env, ctx.tenant).orm;
    const connection = await db
      .select()
      .from(ssoConnections)
      .where(eq(ssoConnections.id, input.connectionId))
      .get();
    if (
      connection?.protocol !== "saml" ||
      !connection.idpEntityId ||
      !connection.idpCertificates?.length
    )
      throw new Refusal("unknown_connection", connection?.id ?? null);
    const login = input.relayState
      ? await pendingLogin(ctx, connection.id, input.relayState)
      : null;
    const purpose = login?.purpose ?? "sign_in";
    if (!connection.enabled && purpose !== "test")
      throw new Refusal("connection_disabled", connection.id);

    const sp = spValues(ctx.env, ctx.tenant.slug, connection.id);
    const assertion = await verifySamlResponse({
      xml: decodeSamlResponse(input.samlResponse),
      idpKeys: await Promise.all(connection.idpCertificates.map(importIdpCertificate)),
      idpEntityId: connection.idpEntityId,
      spEntityId: sp.entityId,
      acsUrl: sp.acsUrl,
      requestId: login?.samlRequestId ?? null,
      allowIdpInitiated: connection.allowIdpInitiated,
      seen: seenAssertions(ctx, connection.id),
    }).catch((err) => {
      throw err instanceof SamlError ? new Refusal(err.reason, connection.id, err.detail) : err;
    });
    // The request is answered once, even by a second, different assertion.
    if (login) {
      const consumed = await db
        .update(ssoLogins)
        .set({ usedAt: Date.now() })
        .where(and(eq(ssoLogins.stateHash, login.stateHash), isNull(ssoLogins.usedAt)))
        .returning({ s: ssoLogins.stateHash });
      if (consumed.length !== 1) throw new Refusal("request_already_used", connection.id);
    }

    const email = EmailSchema.safeParse(assertion.attributes.email?.[0] ?? assertion.nameId);
    if (!email.success) throw new Refusal("no_email", connection.id, assertion.nameId);
    const claims = {
      ...assertion.attributes,
      groups: assertion.attributes[connection.groupsAttribute ?? "groups"] ?? [],
      email: email.data,
      name_id: assertion.nameId,
      name_id_format: assertion.nameIdFormat,
      session_index: assertion.sessionIndex,
    };
    return admit(ctx, connection, purpose, {
      email: email.data,
      subject: assertion.nameId,
      claims,
    });
  });
}
