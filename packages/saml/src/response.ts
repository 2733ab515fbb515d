import type { Element } from "@xmldom/xmldom";
import { refuse } from "./refusal.js";
import { verifyEnvelopedSignature } from "./signature.js";
import { child, children, isElement, NS, parseXml, textOf } from "./xml.js";

/** Tolerated clock difference between the IdP and us, either way, on every time check. */
export const CLOCK_SKEW_SECONDS = 60;

/**
 * Where the caller remembers assertion ids until they expire. `remember` must be one atomic
 * step (a conditional insert, a Durable Object): it stores the id and returns false when the id
 * was already there, so two racing requests with the same assertion cannot both succeed.
 */
export interface SeenAssertionIds {
  remember(assertionId: string, until: Date): Promise<boolean>;
}

export interface VerifySamlResponseInput {
  /** The Response XML (see decodeSamlResponse for the HTTP-POST form value). */
  xml: string;
  /** The connection's IdP signing keys (importIdpCertificate); several during rollover. */
  idpKeys: readonly CryptoKey[];
  idpEntityId: string;
  /** Our SP entity id, the required audience. */
  spEntityId: string;
  /** Our Assertion Consumer Service URL: Destination and Recipient must be exactly this. */
  acsUrl: string;
  /** The ID of the AuthnRequest we issued for this sign-in, or null when there is none. */
  requestId: string | null;
  /** Accept unsolicited (IdP-initiated) responses when no request is pending. */
  allowIdpInitiated: boolean;
  seen: SeenAssertionIds;
  now?: Date;
}

export interface SamlAssertion {
  id: string;
  issuer: string;
  nameId: string;
  nameIdFormat: string | null;
  sessionIndex: string | null;
  /** Attribute name → values, e.g. groups for role mapping. */
  attributes: Record<string, string[]>;
  /** The request this answers; null for an IdP-initiated sign-in. */
  inResponseTo: string | null;
  /** Until when the assertion could be accepted (skew included): keep its id that long. */
  expiresAt: Date;
}

/**
 * Verifies a SAML 2.0 Response (Web Browser SSO profile, HTTP-POST binding) and returns the one
 * assertion it carries, or throws SamlError with the reason. The assertion read is always the
 * signed one, or inside the signed Response: wrapping attacks that add, move or duplicate
 * elements are refused before anything is read.
 */
export async function verifySamlResponse(input: VerifySamlResponseInput): Promise<SamlAssertion> {
  const now = (input.now ?? new Date()).getTime();
  const skew = CLOCK_SKEW_SECONDS * 1000;
  const response = parseXml(input.xml).documentElement as Element;
  const { assertion, responseSignature } = await readSignedAssertion(response, input.idpKeys);

  const responseIssuer = child(response, NS.assertion, "Issuer");
  if (responseIssuer && textOf(responseIssuer) !== input.idpEntityId) {
    refuse("issuer_mismatch", `Response issuer ${textOf(responseIssuer)}`);
  }
  const issuer = textOf(
    child(assertion, NS.assertion, "Issuer") ??
      refuse("issuer_mismatch", "Assertion has no Issuer"),
  );
  if (issuer !== input.idpEntityId) refuse("issuer_mismatch", `Assertion issuer ${issuer}`);

  // Required on a signed Response (SAML bindings §3.5.5.2); where only the assertion is signed
  // it is unsigned and proves nothing, so the signed Recipient below is the binding check.
  const destination = response.getAttribute("Destination");
  if (destination === null ? responseSignature !== null : destination !== input.acsUrl) {
    refuse("destination_mismatch", `Destination ${destination ?? "(none)"}`);
  }
  const inResponseTo = checkInResponseTo(response.getAttribute("InResponseTo"), input);

  const subject =
    child(assertion, NS.assertion, "Subject") ??
    refuse("missing_name_id", "Assertion has no Subject");
  const nameIdElement =
    child(subject, NS.assertion, "NameID") ?? refuse("missing_name_id", "Subject has no NameID");
  const nameId = textOf(nameIdElement);
  if (!nameId) refuse("missing_name_id", "NameID is empty");
  const confirmedUntil = checkBearerConfirmation(subject, input, now, skew);
  const validUntil = checkConditions(assertion, input.spEntityId, now, skew);

  const id = assertion.getAttribute("ID") ?? refuse("malformed_xml", "Assertion has no ID");
  const expiresAt = new Date(Math.max(confirmedUntil, validUntil ?? 0) + skew);
  if (!(await input.seen.remember(id, expiresAt))) {
    refuse("replayed", `assertion ${id} was already used`);
  }

  return {
    id,
    issuer,
    nameId,
    nameIdFormat: nameIdElement.getAttribute("Format") || null,
    sessionIndex:
      child(assertion, NS.assertion, "AuthnStatement")?.getAttribute("SessionIndex") || null,
    attributes: readAttributes(assertion),
    inResponseTo,
    expiresAt,
  };
}

/**
 * The Response's one assertion, once the structure leaves no room for wrapping and every
 * signature present verifies: the assertion is then signed itself or inside a signed Response.
 */
async function readSignedAssertion(response: Element, keys: readonly CryptoKey[]) {
  if (!(response.namespaceURI === NS.protocol && response.localName === "Response")) {
    refuse("not_a_response", `document element is ${response.nodeName}`);
  }
  if (response.getAttribute("Version") !== "2.0") {
    refuse("unsupported_version", "Response is not SAML 2.0");
  }
  refuseDuplicateIds(response);

  const status = child(response, NS.protocol, "Status");
  const statusValue =
    (status && child(status, NS.protocol, "StatusCode")?.getAttribute("Value")) ?? "(none)";
  if (statusValue !== "urn:oasis:names:tc:SAML:2.0:status:Success") {
    refuse("status_not_success", statusValue);
  }

  if (response.getElementsByTagNameNS(NS.assertion, "EncryptedAssertion").length > 0) {
    refuse("encrypted_assertion_unsupported", "encrypted assertions are not configured");
  }
  // Exactly one assertion in the whole document, and it is the Response's child: a second one
  // hidden in Extensions, an Object or another element is a wrapping attempt.
  const assertions = response.getElementsByTagNameNS(NS.assertion, "Assertion");
  const assertion = assertions.item(0);
  if (assertions.length !== 1 || !assertion || assertion.parentNode !== response) {
    return refuse(
      "assertion_count",
      `${assertions.length} assertions, expected one child of Response`,
    );
  }
  if (assertion.getAttribute("Version") !== "2.0") {
    refuse("unsupported_version", "Assertion is not SAML 2.0");
  }

  const responseSignature = child(response, NS.dsig, "Signature");
  const assertionSignature = child(assertion, NS.dsig, "Signature");
  if (!responseSignature && !assertionSignature) {
    refuse("unsigned", "neither Response nor Assertion is signed");
  }
  if (responseSignature) await verifyEnvelopedSignature(response, responseSignature, keys);
  if (assertionSignature) await verifyEnvelopedSignature(assertion, assertionSignature, keys);
  return { assertion, responseSignature };
}

/** Every element's ID must be unique, so a reference `#ID` names exactly one element. */
function refuseDuplicateIds(root: Element): void {
  const ids = new Set<string>();
  const all = root.getElementsByTagName("*");
  for (const element of [
    root,
    ...Array.from({ length: all.length }, (_, i) => all.item(i) as Element),
  ]) {
    const id = element.getAttribute("ID");
    if (id === null) continue;
    if (ids.has(id)) refuse("duplicate_id", `ID ${id} appears more than once`);
    ids.add(id);
  }
}

function checkInResponseTo(value: string | null, input: VerifySamlResponseInput): string | null {
  if (input.requestId === null) {
    if (value !== null)
      refuse("in_response_to_mismatch", `answers ${value}, but no request is pending`);
    if (!input.allowIdpInitiated) refuse("unsolicited", "IdP-initiated sign-in is not allowed");
    return null;
  }
  if (value === null) refuse("unsolicited", `expected an answer to ${input.requestId}`);
  if (value !== input.requestId)
    refuse("in_response_to_mismatch", `answers ${value}, expected ${input.requestId}`);
  return value;
}

/**
 * A bearer SubjectConfirmation whose data names our ACS as Recipient, answers our request and
 * has not expired. Returns its NotOnOrAfter; refuses with the first failing one's reason.
 */
function checkBearerConfirmation(
  subject: Element,
  input: VerifySamlResponseInput,
  now: number,
  skew: number,
): number {
  const bearers = children(subject, NS.assertion, "SubjectConfirmation").filter(
    (c) => c.getAttribute("Method") === "urn:oasis:names:tc:SAML:2.0:cm:bearer",
  );
  let firstRefusal: unknown = null;
  for (const bearer of bearers) {
    try {
      const data =
        child(bearer, NS.assertion, "SubjectConfirmationData") ??
        refuse("no_bearer_confirmation", "bearer confirmation has no data");
      const recipient = data.getAttribute("Recipient");
      if (recipient !== input.acsUrl) refuse("recipient_mismatch", `Recipient ${recipient}`);
      const answers = data.getAttribute("InResponseTo");
      if (answers !== null || input.requestId !== null) checkInResponseTo(answers, input);
      const notBefore = time(data, "NotBefore");
      if (notBefore !== null && now + skew < notBefore)
        refuse("not_yet_valid", "SubjectConfirmationData NotBefore");
      const notOnOrAfter =
        time(data, "NotOnOrAfter") ??
        refuse("no_bearer_confirmation", "bearer confirmation has no NotOnOrAfter");
      if (now - skew >= notOnOrAfter) refuse("expired", "SubjectConfirmationData NotOnOrAfter");
      return notOnOrAfter;
    } catch (error) {
      firstRefusal ??= error;
    }
  }
  throw (
    firstRefusal ?? refuse("no_bearer_confirmation", "Subject has no bearer SubjectConfirmation")
  );
}

/** Validity window and audience. Every AudienceRestriction must list our entity id. */
function checkConditions(
  assertion: Element,
  spEntityId: string,
  now: number,
  skew: number,
): number | null {
  const conditions =
    child(assertion, NS.assertion, "Conditions") ??
    refuse("audience_mismatch", "Assertion has no Conditions");
  const notBefore = time(conditions, "NotBefore");
  if (notBefore !== null && now + skew < notBefore) refuse("not_yet_valid", "Conditions NotBefore");
  const notOnOrAfter = time(conditions, "NotOnOrAfter");
  if (notOnOrAfter !== null && now - skew >= notOnOrAfter)
    refuse("expired", "Conditions NotOnOrAfter");
  const restrictions = children(conditions, NS.assertion, "AudienceRestriction");
  if (restrictions.length === 0) refuse("audience_mismatch", "no AudienceRestriction");
  for (const restriction of restrictions) {
    const audiences = children(restriction, NS.assertion, "Audience").map(textOf);
    if (!audiences.includes(spEntityId))
      refuse("audience_mismatch", `audiences ${audiences.join(", ")}`);
  }
  return notOnOrAfter;
}

const DATE_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

function time(element: Element, name: string): number | null {
  const value = element.getAttribute(name);
  if (value === null) return null;
  const ms = DATE_TIME.test(value) ? Date.parse(value) : Number.NaN;
  return Number.isNaN(ms)
    ? refuse("malformed_xml", `${element.localName} ${name} is not a time: ${value}`)
    : ms;
}

function readAttributes(assertion: Element): Record<string, string[]> {
  const attributes: Record<string, string[]> = {};
  for (const statement of children(assertion, NS.assertion, "AttributeStatement")) {
    for (const attribute of children(statement, NS.assertion, "Attribute")) {
      const name = attribute.getAttribute("Name");
      if (!name) continue;
      // Structured values (elements inside) are not strings; they are left out, not flattened.
      const values = children(attribute, NS.assertion, "AttributeValue")
        .filter((value) => !Array.from(value.childNodes).some(isElement))
        .map(textOf);
      attributes[name] = [...(attributes[name] ?? []), ...values];
    }
  }
  return attributes;
}
