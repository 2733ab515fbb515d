// `npm run dev`'s demo IdP (scripts/demo-idp.ts) as a browser meets it: an SP-initiated
// AuthnRequest gets the "Sign in as" page, whose form (submitted as is) answers with a Response
// our verifier (@tenantry/saml) accepts for the SP that asked, carrying its RelayState. And the
// DNS-over-HTTPS stand-in answers the TXT record the seeding publishes.
import { deflateRawSync } from "node:zlib";
import { decodeSamlResponse, importIdpCertificate, verifySamlResponse } from "@tenantry/saml";
import { describe, expect, it } from "vitest";
import { formValues } from "../../tests/saml-idp.ts";
import { demoStandIns } from "../demo-idp.ts";
import { DEMO_IDP_URL, DEMO_SSO } from "../lib/demo-sso.mjs";

const SP = "http://globex.localhost:8787/sso/saml/ssoc_demo";
const ACS = `${SP}/acs`;

const fromHtml = (s) =>
  s
    .replaceAll("&quot;", '"')
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&amp;", "&");

/** What a browser submits: every named input of the page's form with its value. */
function submitted(page) {
  const fields = [...page.matchAll(/<input [^>]*name="([^"]+)"[^>]*value="([^"]*)"/g)];
  return new URLSearchParams(fields.map(([, name, value]) => [name, fromHtml(value)]));
}

describe("the demo SAML IdP", () => {
  it("asks who signs in, then posts a signed Response for them to the ACS", async () => {
    const { idp } = await demoStandIns();
    const metadata = await (await idp(new Request(`${DEMO_IDP_URL}/metadata`))).text();
    const certificate = metadata.match(/<ds:X509Certificate>([^<]+)</)[1];
    const request =
      '<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"' +
      ` ID="_demo-request" Version="2.0" IssueInstant="${new Date().toISOString()}" Destination="${DEMO_IDP_URL}/sso"` +
      ` AssertionConsumerServiceURL="${ACS}" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST">` +
      `<saml:Issuer>${SP}</saml:Issuer></samlp:AuthnRequest>`;
    const query = new URLSearchParams({
      SAMLRequest: deflateRawSync(request).toString("base64"),
      RelayState: "relay-1",
    });

    const signInPage = await idp(new Request(`${DEMO_IDP_URL}/sso?${query}`));
    expect(signInPage.status).toBe(200);
    const page = await signInPage.text();
    expect(page).toContain("Sign in as");
    expect(page).toContain(`action="${DEMO_IDP_URL}/sign-in"`);
    const form = submitted(page);
    expect(form.get("email")).toBe(DEMO_SSO.user.email);
    expect(form.get("groups")).toBe("Engineering");

    const answer = await idp(
      new Request(`${DEMO_IDP_URL}/sign-in`, { method: "POST", body: form.toString() }),
    );
    const posted = formValues(await answer.text());
    expect(posted.action).toBe(ACS);
    expect(posted.relayState).toBe("relay-1");
    const assertion = await verifySamlResponse({
      xml: decodeSamlResponse(posted.samlResponse),
      idpKeys: [await importIdpCertificate(certificate)],
      idpEntityId: DEMO_IDP_URL,
      spEntityId: SP,
      acsUrl: ACS,
      requestId: "_demo-request",
      allowIdpInitiated: false,
      seen: { remember: async () => true },
    });
    expect(assertion.nameId).toBe(DEMO_SSO.user.email);
    expect(assertion.attributes.groups).toEqual(["Engineering"]);
  });

  it("resolves the TXT record published at its DNS-over-HTTPS stand-in", async () => {
    const { doh } = await demoStandIns();
    const name = `_tenantry-verify.${DEMO_SSO.domain}`;
    await doh(
      new Request(`http://localhost:${DEMO_SSO.dohPort}/_dns/txt`, {
        method: "POST",
        body: JSON.stringify({ name, values: ["tenantry-verify=demo"] }),
      }),
    );
    const res = await doh(
      new Request(`http://localhost:${DEMO_SSO.dohPort}/dns-query?name=${name}&type=TXT`),
    );
    expect((await res.json()).Answer).toEqual([
      { name, type: 16, TTL: 60, data: '"tenantry-verify=demo"' },
    ]);
  });
});
