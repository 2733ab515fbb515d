import { describe, expect, it } from "vitest";
import { encodeBase64 } from "../src/base64.js";
import {
  decodeSamlResponse,
  describeIdpCertificate,
  importIdpCertificate,
  SamlError,
  type SeenAssertionIds,
  verifySamlResponse,
} from "../src/index.js";
import { newIdpKey } from "./fixtures/certificate.js";
import { buildResponse, IDP_ENTITY_ID, newId, SP } from "./fixtures/response.js";
import { signElement } from "./fixtures/sign.js";

const idp = await newIdpKey();
const nextIdp = await newIdpKey("Test IdP (next)");
const attacker = await newIdpKey("Attacker");
const idpKey = await importIdpCertificate(idp.certificate);

/** The caller's replay memory, kept in a Map for the tests. */
function memorySeen(): SeenAssertionIds {
  const ids = new Map<string, Date>();
  return {
    async remember(id, until) {
      if (ids.has(id)) return false;
      ids.set(id, until);
      return true;
    },
  };
}

const verify = (xml: string, overrides: Partial<Parameters<typeof verifySamlResponse>[0]> = {}) =>
  verifySamlResponse({
    xml,
    idpKeys: [idpKey],
    idpEntityId: IDP_ENTITY_ID,
    spEntityId: SP.entityId,
    acsUrl: SP.acsUrl,
    requestId: "_request-1",
    allowIdpInitiated: false,
    seen: memorySeen(),
    ...overrides,
  });

const signatureOf = (xml: string) =>
  xml.match(/<ds:Signature [\s\S]*<\/ds:Signature>/)?.[0] as string;

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SamlError) return error.reason;
    throw error;
  }
  throw new Error("the response was accepted");
}

/** A response whose assertion is signed by the IdP. */
async function signedAssertion(overrides: Parameters<typeof buildResponse>[0] = {}) {
  const response = buildResponse(overrides);
  return {
    ...response,
    xml: await signElement(response.xml, response.assertionId, idp.privateKey),
  };
}

describe("accepted responses", () => {
  it("a signed assertion yields its id, expiry, NameID, session and attributes", async () => {
    const { xml, assertionId, notOnOrAfter } = await signedAssertion();
    const assertion = await verify(xml);
    expect(assertion).toEqual({
      id: assertionId,
      issuer: IDP_ENTITY_ID,
      nameId: "ada@example.com",
      nameIdFormat: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
      sessionIndex: "_session-1",
      attributes: { groups: ["engineering", "admins & owners"] },
      inResponseTo: "_request-1",
      expiresAt: new Date(notOnOrAfter.getTime() + 60_000),
    });
  });

  it("a signed Response covers its assertion", async () => {
    const response = buildResponse();
    const xml = await signElement(response.xml, response.responseId, idp.privateKey);
    expect((await verify(xml)).id).toBe(response.assertionId);
  });

  it("both signed, with an InclusiveNamespaces PrefixList as Okta sends", async () => {
    const response = buildResponse();
    const inner = await signElement(response.xml, response.assertionId, idp.privateKey, {
      prefixList: "xs",
    });
    const xml = await signElement(inner, response.responseId, idp.privateKey, { prefixList: "xs" });
    expect((await verify(xml)).nameId).toBe("ada@example.com");
  });

  it("any configured certificate may have signed it (rollover)", async () => {
    const response = buildResponse();
    const xml = await signElement(response.xml, response.assertionId, nextIdp.privateKey);
    const idpKeys = [idpKey, await importIdpCertificate(nextIdp.certificate)];
    expect((await verify(xml, { idpKeys })).id).toBe(response.assertionId);
  });

  it("the HTTP-POST form value decodes as UTF-8", async () => {
    const { xml } = await signedAssertion({ nameId: "zoë@example.com" });
    const form = encodeBase64(new TextEncoder().encode(xml));
    expect((await verify(decodeSamlResponse(form))).nameId).toBe("zoë@example.com");
  });

  it("IdP-initiated when the caller allows it", async () => {
    const { xml } = await signedAssertion({ inResponseTo: null });
    const assertion = await verify(xml, { requestId: null, allowIdpInitiated: true });
    expect(assertion.inResponseTo).toBeNull();
  });

  it("clocks may differ by up to the documented 60 s skew", async () => {
    const now = Date.now();
    const { xml } = await signedAssertion({ notBefore: new Date(now + 50_000) });
    await expect(verify(xml)).resolves.toMatchObject({ nameId: "ada@example.com" });
    const late = await signedAssertion({ notOnOrAfter: new Date(now - 50_000) });
    await expect(verify(late.xml)).resolves.toMatchObject({ nameId: "ada@example.com" });
  });
});

describe("refused responses", () => {
  it("unsigned", async () => {
    expect(await refusal(verify(buildResponse().xml))).toBe("unsigned");
  });

  it("signed by a key that is not configured", async () => {
    const response = buildResponse();
    const xml = await signElement(response.xml, response.assertionId, attacker.privateKey);
    expect(await refusal(verify(xml))).toBe("bad_signature");
  });

  it("changed after signing", async () => {
    const { xml } = await signedAssertion();
    expect(await refusal(verify(xml.replace("ada@example.com", "eve@example.com")))).toBe(
      "digest_mismatch",
    );
  });

  it("a signed Response whose assertion was swapped for another", async () => {
    const response = buildResponse();
    const xml = await signElement(response.xml, response.responseId, idp.privateKey);
    expect(await refusal(verify(xml.replace("ada@example.com", "eve@example.com")))).toBe(
      "digest_mismatch",
    );
  });

  it("SHA-1 signature and digest", async () => {
    const response = buildResponse();
    const xml = await signElement(response.xml, response.assertionId, idp.privateKey, {
      sha1: true,
    });
    expect(await refusal(verify(xml))).toBe("signature_algorithm_forbidden");
  });

  it("transforms other than enveloped-signature + exc-c14n", async () => {
    const response = buildResponse();
    const xml = await signElement(response.xml, response.assertionId, idp.privateKey, {
      transforms: [
        "http://www.w3.org/2000/09/xmldsig#enveloped-signature",
        "http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
      ],
    });
    expect(await refusal(verify(xml))).toBe("signature_algorithm_forbidden");
  });

  it("comment injected into NameID (the signature stays valid; the value is refused)", async () => {
    const { xml } = await signedAssertion({ nameId: "user@evil.com.example.com" });
    const injected = xml.replace("user@evil.com.example.com", "user@evil.com<!---->.example.com");
    expect(await refusal(verify(injected))).toBe("comment_in_value");
  });

  it("wrong audience", async () => {
    const { xml } = await signedAssertion({
      audience: "https://other.tenantry.test/saml/metadata",
    });
    expect(await refusal(verify(xml))).toBe("audience_mismatch");
  });

  it("wrong recipient", async () => {
    const { xml } = await signedAssertion({ recipient: "https://other.tenantry.test/saml/acs" });
    expect(await refusal(verify(xml))).toBe("recipient_mismatch");
  });

  it("wrong destination", async () => {
    const { xml } = await signedAssertion({ destination: "https://other.tenantry.test/saml/acs" });
    expect(await refusal(verify(xml))).toBe("destination_mismatch");
  });

  it("a signed Response without Destination", async () => {
    const response = buildResponse({ destination: null });
    const xml = await signElement(response.xml, response.responseId, idp.privateKey);
    expect(await refusal(verify(xml))).toBe("destination_mismatch");
  });

  it("larger than any real response", async () => {
    const { xml } = await signedAssertion();
    const padded = xml.replace(
      "<saml2p:Status>",
      `<!--${"x".repeat(256 * 1024)}--><saml2p:Status>`,
    );
    expect(await refusal(verify(padded))).toBe("too_large");
  });

  it("wrong issuer", async () => {
    const { xml } = await signedAssertion({ issuer: "https://evil.example/idp" });
    expect(await refusal(verify(xml))).toBe("issuer_mismatch");
  });

  it("expired (beyond the skew)", async () => {
    const { xml } = await signedAssertion({ notOnOrAfter: new Date(Date.now() - 61_000) });
    expect(await refusal(verify(xml))).toBe("expired");
  });

  it("not yet valid (beyond the skew)", async () => {
    const { xml } = await signedAssertion({ notBefore: new Date(Date.now() + 120_000) });
    expect(await refusal(verify(xml))).toBe("not_yet_valid");
  });

  it("answers another request", async () => {
    const { xml } = await signedAssertion({ inResponseTo: "_request-2" });
    expect(await refusal(verify(xml))).toBe("in_response_to_mismatch");
  });

  it("answers a request when none is pending", async () => {
    const { xml } = await signedAssertion();
    expect(await refusal(verify(xml, { requestId: null, allowIdpInitiated: true }))).toBe(
      "in_response_to_mismatch",
    );
  });

  it("unsolicited when IdP-initiated sign-in is off", async () => {
    const { xml } = await signedAssertion({ inResponseTo: null });
    expect(await refusal(verify(xml, { requestId: null }))).toBe("unsolicited");
  });

  it("unsolicited while a request is pending", async () => {
    const { xml } = await signedAssertion({ inResponseTo: null });
    expect(await refusal(verify(xml))).toBe("unsolicited");
  });

  it("replayed", async () => {
    const { xml } = await signedAssertion();
    const seen = memorySeen();
    await verify(xml, { seen });
    expect(await refusal(verify(xml, { seen }))).toBe("replayed");
  });

  it("status other than Success", async () => {
    const { xml } = await signedAssertion({
      status: "urn:oasis:names:tc:SAML:2.0:status:Responder",
    });
    expect(await refusal(verify(xml))).toBe("status_not_success");
  });

  it("a DOCTYPE (entities)", async () => {
    const { xml } = await signedAssertion();
    const withDoctype = xml.replace(
      "<saml2p:Response",
      '<!DOCTYPE r [<!ENTITY e "x">]><saml2p:Response',
    );
    expect(await refusal(verify(withDoctype))).toBe("doctype_forbidden");
  });

  it("a form value that is not base64", async () => {
    expect(await refusal(Promise.resolve().then(() => decodeSamlResponse("%%%")))).toBe(
      "malformed_xml",
    );
  });

  it("a duplicated attribute (parsers that keep the first and the last disagree)", async () => {
    const { xml, responseId } = await signedAssertion();
    const twice = xml.replace(`ID="${responseId}"`, `ID="${responseId}" ID="_other"`);
    expect(await refusal(verify(twice))).toBe("malformed_xml");
  });

  it("a signature that is not a direct child of what it signs does not count", async () => {
    const { xml } = await signedAssertion();
    const signature = signatureOf(xml);
    const buried = xml
      .replace(signature, "")
      .replace("</saml2:Subject>", `${signature}</saml2:Subject>`);
    expect(await refusal(verify(buried))).toBe("unsigned");
  });

  it("not XML", async () => {
    expect(await refusal(verify("<saml2p:Response"))).toBe("malformed_xml");
  });
});

describe("XML signature wrapping", () => {
  const evilAssertion = (id: string) =>
    buildResponse({ assertionId: id, nameId: "eve@example.com" }).xml.match(
      /<saml2:Assertion [\s\S]*<\/saml2:Assertion>/,
    )?.[0] as string;
  const signedAssertionElement = (xml: string) =>
    xml.match(/<saml2:Assertion [\s\S]*<\/saml2:Assertion>/)?.[0] as string;

  it("an unsigned assertion inserted before the signed one", async () => {
    const { xml } = await signedAssertion();
    const wrapped = xml.replace("<saml2:Assertion ", `${evilAssertion(newId())}<saml2:Assertion `);
    expect(await refusal(verify(wrapped))).toBe("assertion_count");
  });

  it("an unsigned assertion with the signed one's ID (duplicate ID)", async () => {
    const { xml, assertionId } = await signedAssertion();
    const wrapped = xml.replace(
      "<saml2:Assertion ",
      `${evilAssertion(assertionId)}<saml2:Assertion `,
    );
    expect(await refusal(verify(wrapped))).toBe("duplicate_id");
  });

  it("the signed assertion hidden in samlp:Extensions, an unsigned one in its place", async () => {
    const { xml } = await signedAssertion();
    const signed = signedAssertionElement(xml);
    const wrapped = xml
      .replace(signed, `${evilAssertion(newId())}`)
      .replace(
        "<saml2p:Status>",
        `<saml2p:Extensions>${signed}</saml2p:Extensions><saml2p:Status>`,
      );
    expect(await refusal(verify(wrapped))).toBe("assertion_count");
  });

  it("the signed assertion hidden in the signature's ds:Object", async () => {
    const response = buildResponse();
    const signedResponse = await signElement(response.xml, response.responseId, idp.privateKey);
    const original = signedAssertionElement(signedResponse);
    const wrapped = signedResponse
      .replace(original, evilAssertion(newId()))
      .replace("</ds:Signature>", `<ds:Object>${original}</ds:Object></ds:Signature>`);
    expect(await refusal(verify(wrapped))).toBe("assertion_count");
  });

  it("the assertion's signature moved onto an unsigned Response around an unsigned assertion", async () => {
    const { xml } = await signedAssertion();
    const signature = signatureOf(xml);
    const wrapped = xml
      .replace(signedAssertionElement(xml), evilAssertion(newId()))
      .replace("<saml2p:Status>", `${signature}<saml2p:Status>`);
    expect(await refusal(verify(wrapped))).toBe("signature_reference_mismatch");
  });

  it("the signature copied into an unsigned assertion that replaces the signed one", async () => {
    const { xml } = await signedAssertion();
    const signature = signatureOf(xml);
    const evil = evilAssertion(newId()).replace("</saml2:Issuer>", `</saml2:Issuer>${signature}`);
    const wrapped = xml.replace(signedAssertionElement(xml), evil);
    expect(await refusal(verify(wrapped))).toBe("signature_reference_mismatch");
  });

  it("a second, unsigned Response wrapping the signed one", async () => {
    const { xml } = await signedAssertion();
    const inner = xml.replace('<?xml version="1.0" encoding="UTF-8"?>\n', "");
    const outer = buildResponse().xml.replace(/<saml2:Assertion [\s\S]*<\/saml2:Assertion>/, inner);
    expect(await refusal(verify(outer))).toBe("assertion_count");
  });

  it("an encrypted assertion beside the signed one", async () => {
    const { xml } = await signedAssertion();
    const wrapped = xml.replace(
      "<saml2:Assertion ",
      '<saml2:EncryptedAssertion xmlns:saml2="urn:oasis:names:tc:SAML:2.0:assertion"/><saml2:Assertion ',
    );
    expect(await refusal(verify(wrapped))).toBe("encrypted_assertion_unsupported");
  });
});

describe("IdP certificates", () => {
  it("accepts the bare base64 of IdP metadata as well as PEM", async () => {
    const bare = idp.certificate.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, "");
    const response = buildResponse();
    const xml = await signElement(response.xml, response.assertionId, idp.privateKey);
    const idpKeys = [await importIdpCertificate(bare)];
    expect((await verify(xml, { idpKeys })).id).toBe(response.assertionId);
  });

  it("refuses something that is not a certificate", async () => {
    await expect(importIdpCertificate(btoa("not a certificate"))).rejects.toThrow();
  });

  it("describes a certificate as people compare it: SHA-256 fingerprint and expiry", async () => {
    const madeAt = Date.now();
    const { sha256, notAfter } = await describeIdpCertificate(idp.certificate);
    const der = Uint8Array.from(
      atob(idp.certificate.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, "")),
      (c) => c.charCodeAt(0),
    );
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", der));
    expect(sha256).toBe(
      Array.from(digest, (b) => b.toString(16).padStart(2, "0"))
        .join(":")
        .toUpperCase(),
    );
    // The fixture's certificate is valid for a year (UTCTime, whole seconds).
    expect(Math.abs(notAfter.getTime() - (madeAt + 365 * 86_400_000))).toBeLessThan(60_000);
  });

  it("a key under 2048 bits is refused at configuration", async () => {
    const weak = await newIdpKey("Weak IdP", 1024);
    await expect(importIdpCertificate(weak.certificate)).rejects.toThrow("1024 bits");
  });
});
