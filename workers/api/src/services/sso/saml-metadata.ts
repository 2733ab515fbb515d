import {
  certificateBase64,
  describeIdpCertificate,
  importIdpCertificate,
  parseXml,
  SamlError,
} from "@tenantry/saml";
import type { Element } from "@xmldom/xmldom";
import { config, type Env } from "../../env";
import { UnprocessableError } from "../../errors";
import { tenantUrl } from "../registry";

const MD = "urn:oasis:names:tc:SAML:2.0:metadata";
const DS = "http://www.w3.org/2000/09/xmldsig#";
export const REDIRECT_BINDING = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
const POST_BINDING = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
export const EMAIL_NAME_ID = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";

/** What a SAML connection keeps of the IdP's metadata. */
export interface IdpMetadata {
  entityId: string;
  ssoUrl: string;
  certificates: string[];
}

/** Our side of a connection (the URL contract of docs/sso.md): what the IdP is told. */
export function spValues(env: Env, slug: string, connectionId: string) {
  const entityId = `${tenantUrl(config(env), slug)}/sso/saml/${connectionId}`;
  return { entityId, acsUrl: `${entityId}/acs`, metadataUrl: `${entityId}/metadata` };
}

const invalid = (detail: string): never => {
  throw new UnprocessableError("invalid_metadata", detail);
};

/**
 * Reads IdP metadata: the one EntityDescriptor with an IDPSSODescriptor (alone or inside an
 * EntitiesDescriptor), its HTTP-Redirect SingleSignOnService, and every certificate of a
 * KeyDescriptor for signing (use="signing" or no use). Parsed as strictly as responses are
 * (no DOCTYPE, no parser warnings). Each certificate must import as an RSA key of 2048+ bits.
 */
export async function parseIdpMetadata(xml: string): Promise<IdpMetadata> {
  let root: Element;
  try {
    root = parseXml(xml).documentElement as Element;
  } catch (error) {
    return invalid(
      `The metadata is not usable XML (${error instanceof SamlError ? error.reason : "unreadable"}).`,
    );
  }
  const entities = (
    root.localName === "EntitiesDescriptor"
      ? Array.from(root.getElementsByTagNameNS(MD, "EntityDescriptor"))
      : [root]
  ).filter((e) => e.namespaceURI === MD && e.localName === "EntityDescriptor");
  const idps = entities.filter((e) => e.getElementsByTagNameNS(MD, "IDPSSODescriptor").length);
  const [entity] = idps;
  if (!entity || idps.length !== 1)
    return invalid("The metadata must hold exactly one EntityDescriptor with an IDPSSODescriptor.");
  const entityId = entity.getAttribute("entityID")?.trim();
  if (!entityId) return invalid("The EntityDescriptor has no entityID.");
  const idp = entity.getElementsByTagNameNS(MD, "IDPSSODescriptor").item(0) as Element;

  const ssoUrl = Array.from(idp.getElementsByTagNameNS(MD, "SingleSignOnService"))
    .find((s) => s.getAttribute("Binding") === REDIRECT_BINDING)
    ?.getAttribute("Location");
  if (!ssoUrl || !URL.canParse(ssoUrl))
    return invalid("The IdP has no SingleSignOnService for the HTTP-Redirect binding.");

  const certificates = [
    ...new Set(
      Array.from(idp.getElementsByTagNameNS(MD, "KeyDescriptor"))
        .filter((k) => (k.getAttribute("use") || "signing") === "signing")
        .flatMap((k) => Array.from(k.getElementsByTagNameNS(DS, "X509Certificate")))
        .map((c) => certificateBase64(c.textContent ?? "")),
    ),
  ];
  await validateCertificates(certificates);
  return { entityId, ssoUrl, certificates };
}

/** Refuses a certificate list that cannot verify a response: none, or a key that is not RSA 2048+. */
export async function validateCertificates(certificates: string[]) {
  if (certificates.length === 0) invalid("The IdP metadata names no signing certificate.");
  for (const [i, certificate] of certificates.entries()) {
    await importIdpCertificate(certificate).catch((error: unknown) =>
      invalid(
        `Signing certificate ${i + 1} cannot be used: ${error instanceof Error ? error.message : "unreadable"}.`,
      ),
    );
  }
}

/** Longest metadata we read from a URL (Entra's is ~25 KB; the XML parser caps at 256 KiB). */
const MAX_METADATA_BYTES = 256 * 1024;

/**
 * Fetches metadata from the IdP's URL (https only in production; a local IdP speaks http in
 * development and tests) and parses it.
 */
export async function fetchIdpMetadata(env: Env, url: string): Promise<IdpMetadata> {
  if (new URL(url).protocol !== "https:" && config(env).ENVIRONMENT === "production")
    invalid("The metadata URL must be an https URL.");
  const res = await fetch(url, { headers: { accept: "application/samlmetadata+xml, */*" } }).catch(
    () => null,
  );
  if (!res?.ok) {
    await res?.body?.cancel();
    return invalid(`The metadata could not be read (${res ? res.status : "unreachable"}).`);
  }
  const text = await res.text();
  if (text.length > MAX_METADATA_BYTES) invalid("The metadata is larger than 256 KiB.");
  return parseIdpMetadata(text);
}

/** The certificates as an owner checks them against the IdP: fingerprint and expiry. */
export const describeCertificates = (certificates: string[]) =>
  Promise.all(
    certificates.map(async (pem) => {
      const { sha256, notAfter } = await describeIdpCertificate(pem);
      return { sha256, not_after: notAfter.toISOString() };
    }),
  );

const escapeXml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * Our SP metadata: entity id, the ACS (HTTP-POST), email NameID; AuthnRequests unsigned and
 * assertions wanted signed (we verify Response or Assertion signatures, ADR 021).
 */
export function spMetadataXml(sp: ReturnType<typeof spValues>): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="${MD}" entityID="${escapeXml(sp.entityId)}">
  <md:SPSSODescriptor AuthnRequestsSigned="false" WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:NameIDFormat>${EMAIL_NAME_ID}</md:NameIDFormat>
    <md:AssertionConsumerService Binding="${POST_BINDING}" Location="${escapeXml(sp.acsUrl)}" index="0" isDefault="true"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>
`;
}
