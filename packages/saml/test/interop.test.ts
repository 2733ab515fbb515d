import { describe, expect, it } from "vitest";
import { importIdpCertificate, type SeenAssertionIds, verifySamlResponse } from "../src/index.js";
import assertionSigned from "./fixtures/xml-crypto/assertion-signed.xml?raw";
import bothSigned from "./fixtures/xml-crypto/both-signed.xml?raw";
import certificate from "./fixtures/xml-crypto/idp-certificate.pem?raw";
import responseSigned from "./fixtures/xml-crypto/response-signed.xml?raw";

// Responses signed by xml-crypto 6.3.2 (the signer behind samlify and node-saml) with an
// openssl-made key whose private half was thrown away; only the certificate is kept. The
// document exercises what canonicalization must get right: namespaces declared on the Response
// and used in the Assertion, a default namespace undeclared inside, xml:lang, escapes in text and
// attributes, CDATA, a comment, attribute order, PrefixList.
const keep: SeenAssertionIds = { remember: async () => true };

describe("responses signed by xml-crypto", async () => {
  const idpKeys = [await importIdpCertificate(certificate)];
  const verify = (xml: string) =>
    verifySamlResponse({
      xml,
      idpKeys,
      idpEntityId: "http://www.okta.com/exk-test",
      spEntityId: "https://acme.tenantry.test/saml/metadata",
      acsUrl: "https://acme.tenantry.test/saml/acs",
      requestId: "_request-interop",
      allowIdpInitiated: false,
      seen: keep,
      now: new Date("2026-11-30T00:01:00Z"),
    });

  it.each([
    ["assertion signed", assertionSigned],
    ["response signed", responseSigned],
    ["both signed", bothSigned],
  ])("%s: verified, attributes read through the escapes and CDATA", async (_, xml) => {
    const assertion = await verify(xml);
    expect(assertion).toMatchObject({
      id: "_assertion-interop",
      nameId: "grace@example.com",
      attributes: { "display & name": ["Grace <Hopper> & co", "<cdata> & more"], extra: [] },
    });
  });

  it("a changed attribute breaks the digest", async () => {
    await expect(
      verify(assertionSigned.replace("Grace &lt;Hopper&gt;", "Eve")),
    ).rejects.toMatchObject({
      reason: "digest_mismatch",
    });
  });
});
