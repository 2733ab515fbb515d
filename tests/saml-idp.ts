// A SAML 2.0 IdP for the SSO tests, in Node: samlify 2.13.1 acting as IdP reads our
// AuthnRequests (HTTP-Redirect binding) and signs the Responses (xml-crypto underneath), so
// our verifier (packages/saml, ADR 021) meets an implementation that is not ours. The workerd
// tests reach it through the vitest configs' `outboundService`; the browser test serves it over
// HTTP (tests/e2e/global-setup.ts).
//
// Each test uses its own realm (a path segment): its own entity id, metadata and state, so tests
// never see each other's keys. Per realm: who is "signed in" at the IdP (email, groups), which
// key signs (`a`, `b`, or `rogue`, never published), which certificates the metadata lists
// (rollover), and a one-shot `next` that bends the next Response into a hostile one. A realm with
// `signInForm` asks who signs in instead ("Sign in as": `npm run dev`'s demo IdP, scripts/demo-idp.ts).
import { createRequire } from "node:module";
import { inflateRawSync } from "node:zlib";
import { DOMParser, MIME_TYPE } from "@xmldom/xmldom";
import { newIdpKey } from "../packages/saml/test/fixtures/certificate.js";

/**
 * The part of samlify used here. Loaded untyped on purpose: its declarations pull in xmldom 0.8's
 * `/// <reference lib="dom" />`, which would change the global types of the whole project.
 */
interface Samlify {
  setSchemaValidator(validator: { validate(xml: string): Promise<string> }): void;
  Constants: { namespace: { binding: { redirect: string; post: string } } };
  IdentityProvider(settings: Record<string, unknown>): {
    createLoginResponse(
      sp: unknown,
      requestInfo: unknown,
      binding: "post",
      user: Record<string, unknown>,
      options: { customTagReplacement: (template: string) => { id: string; context: string } },
    ): Promise<{ context: string }>;
    parseLoginRequest(
      sp: unknown,
      binding: "redirect",
      request: { query: Record<string, string>; octetString: string },
    ): Promise<{ extract: { request: { id: string } } }>;
  };
  ServiceProvider(settings: Record<string, unknown>): unknown;
}
const samlify = createRequire(import.meta.url)("samlify") as Samlify;

export const SAML_IDP_HOST = "saml-idp.tenantry-test.example";

// samlify refuses to parse any inbound message until a schema validator is set, and the
// validators it suggests need libxml or Java. The stand-in only needs a well-formedness check
// (our AuthnRequest is what it reads): xmldom, failing on any parser warning or error.
samlify.setSchemaValidator({
  validate: async (xml: string) => {
    new DOMParser({
      onError: (level, message) => {
        throw new Error(`${level}: ${message}`);
      },
    }).parseFromString(xml, MIME_TYPE.XML_TEXT);
    return "well-formed";
  },
});

type KeyName = "a" | "b" | "rogue";

/** How the next Response of a realm is bent (each one is a refusal the ACS must make). */
export interface HostileTweak {
  unsigned?: boolean;
  /** A second, unsigned assertion for another user inserted before the signed one. */
  wrap?: string;
  /** NameID (and email attribute) with a comment inside: `victim@corp<!---->.evil`. */
  nameIdComment?: boolean;
  audience?: string;
  expired?: boolean;
}

export interface RealmSettings {
  user?: { email: string; groups?: string[] };
  signWith?: KeyName;
  published?: KeyName[];
  next?: HostileTweak;
  /** The SSO endpoint answers with a "Sign in as" form (defaults from `user`), not at once. */
  signInForm?: boolean;
}

type User = NonNullable<RealmSettings["user"]>;

const RESPONSE_TEMPLATE =
  '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{ID}" Version="2.0" IssueInstant="{IssueInstant}" Destination="{Destination}"{InResponseToAttr}>' +
  "<saml:Issuer>{Issuer}</saml:Issuer>" +
  '<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>' +
  "{Assertion}</samlp:Response>";

const ASSERTION_TEMPLATE =
  '<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{AssertionID}" Version="2.0" IssueInstant="{IssueInstant}">' +
  "<saml:Issuer>{Issuer}</saml:Issuer>" +
  '<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">{NameID}</saml:NameID>' +
  '<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="{NotOnOrAfter}" Recipient="{Recipient}"{InResponseToAttr}/></saml:SubjectConfirmation></saml:Subject>' +
  '<saml:Conditions NotBefore="{NotBefore}" NotOnOrAfter="{NotOnOrAfter}"><saml:AudienceRestriction><saml:Audience>{Audience}</saml:Audience></saml:AudienceRestriction></saml:Conditions>' +
  '<saml:AuthnStatement AuthnInstant="{IssueInstant}" SessionIndex="{AssertionID}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>' +
  "<saml:AttributeStatement>{Attributes}</saml:AttributeStatement></saml:Assertion>";

const escapeXml = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c] ?? c);
const fill = (template: string, values: Record<string, string>) =>
  template.replace(/\{(\w+)\}/g, (_, k: string) => values[k] ?? "");
const newId = () => `_${crypto.randomUUID().replaceAll("-", "")}`;
const bare = (pem: string) => pem.replace(/-----[A-Z ]+-----|\s+/g, "");

async function signingKey(name: string) {
  const { privateKey, certificate } = await newIdpKey(`Stand-in IdP ${name}`);
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey("pkcs8", privateKey)).toString("base64");
  return {
    certificate: bare(certificate),
    privateKey: `-----BEGIN PRIVATE KEY-----\n${pkcs8.replace(/.{64}/g, "$&\n")}\n-----END PRIVATE KEY-----\n`,
  };
}

const html = (body: string, status = 200) =>
  new Response(
    `<!doctype html><html lang="en"><head><title>Stand-in IdP</title></head>${body}</html>`,
    {
      status,
      headers: { "content-type": "text/html; charset=utf-8" },
    },
  );

/** The auto-submitting form of the HTTP-POST binding, as real IdPs answer. */
function postForm(acs: string, samlResponse: string, relayState: string | null) {
  const relay = relayState
    ? `<input type="hidden" name="RelayState" value="${escapeXml(relayState)}">`
    : "";
  return html(
    `<body onload="document.forms[0].submit()"><form method="post" action="${escapeXml(acs)}">` +
      `<input type="hidden" name="SAMLResponse" value="${samlResponse}">${relay}` +
      "<button>Continue</button></form></body>",
  );
}

/** The form values of a stand-in IdP answer (for tests that play the browser). */
export function formValues(page: string) {
  const value = (name: string) =>
    page.match(new RegExp(`name="${name}" value="([^"]*)"`))?.[1]?.replaceAll("&amp;", "&") ?? null;
  return {
    action: page.match(/action="([^"]*)"/)?.[1]?.replaceAll("&amp;", "&") ?? "",
    samlResponse: value("SAMLResponse") ?? "",
    relayState: value("RelayState"),
  };
}

export async function createSamlIdp(baseUrl: string) {
  const keys = { a: await signingKey("a"), b: await signingKey("b"), rogue: await signingKey("r") };
  const realms = new Map<string, RealmSettings>();
  const settings = (realm: string) => realms.get(realm) ?? {};
  const entityId = (realm: string) => `${baseUrl}/${realm}`;

  function metadata(realm: string) {
    const certs = (settings(realm).published ?? ["a"])
      .map(
        (k) =>
          `<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>${keys[k].certificate}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`,
      )
      .join("");
    return (
      `<?xml version="1.0"?><md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="${entityId(realm)}">` +
      `<md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">${certs}` +
      "<md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>" +
      `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${entityId(realm)}/sso"/>` +
      `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${entityId(realm)}/sso"/>` +
      "</md:IDPSSODescriptor></md:EntityDescriptor>"
    );
  }

  /** A samlify IdP signing with the realm's current key, and the SP as the request named it. */
  function entities(realm: string, spEntityId: string, acs: string) {
    const key = keys[settings(realm).signWith ?? "a"];
    const idp = samlify.IdentityProvider({
      entityID: entityId(realm),
      signingCert: key.certificate,
      privateKey: key.privateKey,
      nameIDFormat: ["urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"],
      singleSignOnService: [
        {
          Binding: samlify.Constants.namespace.binding.redirect,
          Location: `${entityId(realm)}/sso`,
        },
      ],
      // Not used; declared so samlify does not warn about it on every Response.
      singleLogoutService: [
        {
          Binding: samlify.Constants.namespace.binding.redirect,
          Location: `${entityId(realm)}/slo`,
        },
      ],
    });
    const sp = samlify.ServiceProvider({
      entityID: spEntityId,
      wantAssertionsSigned: true,
      authnRequestsSigned: false,
      assertionConsumerService: [
        { Binding: samlify.Constants.namespace.binding.post, Location: acs },
      ],
    });
    return { idp, sp };
  }

  /** A signed Response for the realm's user: samlify signs the Assertion we lay out. */
  async function response(
    realm: string,
    sp: { entityId: string; acs: string },
    inResponseTo: string | null,
    user: User = settings(realm).user ?? { email: "nobody@example.com" },
  ) {
    const s = settings(realm);
    const tweak = s.next ?? {};
    realms.set(realm, { ...s, next: undefined });
    const now = Date.now();
    const minutes = (m: number) => new Date(now + m * 60_000).toISOString();
    const email = tweak.nameIdComment
      ? `${escapeXml(user.email)}<!---->.evil.example`
      : escapeXml(user.email);
    const attribute = (name: string, values: string[]) =>
      `<saml:Attribute Name="${name}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic">${values.map((v) => `<saml:AttributeValue>${v}</saml:AttributeValue>`).join("")}</saml:Attribute>`;
    const inResponseToAttr = inResponseTo ? ` InResponseTo="${inResponseTo}"` : "";
    const values = {
      ID: newId(),
      AssertionID: newId(),
      IssueInstant: new Date(now).toISOString(),
      Destination: sp.acs,
      Recipient: sp.acs,
      Issuer: entityId(realm),
      InResponseToAttr: inResponseToAttr,
      NameID: email,
      Audience: escapeXml(tweak.audience ?? sp.entityId),
      NotBefore: tweak.expired ? minutes(-30) : minutes(-1),
      NotOnOrAfter: tweak.expired ? minutes(-20) : minutes(5),
      Attributes:
        attribute("email", [email]) + attribute("groups", (user.groups ?? []).map(escapeXml)),
    };
    const assertion = fill(ASSERTION_TEMPLATE, values);
    const { idp, sp: spEntity } = entities(realm, sp.entityId, sp.acs);
    const result = await idp.createLoginResponse(
      spEntity,
      { extract: { request: { id: inResponseTo ?? "" } } },
      "post",
      {},
      {
        customTagReplacement: () => ({
          id: values.ID,
          context: fill(RESPONSE_TEMPLATE, { ...values, Assertion: assertion }),
        }),
      },
    );
    let xml = Buffer.from(result.context, "base64").toString("utf8");
    if (tweak.unsigned) xml = xml.replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, "");
    if (tweak.wrap) {
      const forged = fill(ASSERTION_TEMPLATE, {
        ...values,
        AssertionID: newId(),
        NameID: escapeXml(tweak.wrap),
        Attributes: attribute("email", [escapeXml(tweak.wrap)]),
      });
      xml = xml.replace("<saml:Assertion ", `${forged}<saml:Assertion `);
    }
    return Buffer.from(xml, "utf8").toString("base64");
  }

  /** The AuthnRequest of an HTTP-Redirect query (or the sign-in form carrying it on). */
  async function readRequest(realm: string, params: URLSearchParams) {
    const raw = params.get("SAMLRequest") ?? "";
    const request = inflateRawSync(Buffer.from(raw, "base64")).toString("utf8");
    const doc = new DOMParser().parseFromString(request, MIME_TYPE.XML_TEXT);
    const root = doc.documentElement;
    const issuer =
      root?.getElementsByTagNameNS("urn:oasis:names:tc:SAML:2.0:assertion", "Issuer").item(0)
        ?.textContent ?? "";
    const acs = root?.getAttribute("AssertionConsumerServiceURL") ?? "";
    // samlify reads the request as an IdP does (it checks it is an AuthnRequest it can answer).
    const { idp, sp } = entities(realm, issuer, acs);
    const parsed = await idp.parseLoginRequest(sp, "redirect", {
      query: Object.fromEntries(params),
      octetString: "",
    });
    return { sp: { entityId: issuer, acs }, requestId: parsed.extract.request.id };
  }

  async function sso(realm: string, params: URLSearchParams, user?: User) {
    const { sp, requestId } = await readRequest(realm, params);
    const samlResponse = await response(realm, sp, requestId, user);
    return postForm(sp.acs, samlResponse, params.get("RelayState"));
  }

  /** "Sign in as": the request and RelayState ride along in hidden fields to `sign-in`. */
  async function signInPage(realm: string, params: URLSearchParams) {
    await readRequest(realm, params);
    const user = settings(realm).user ?? { email: "" };
    const hidden = ["SAMLRequest", "RelayState"]
      .filter((name) => params.has(name))
      .map(
        (name) =>
          `<input type="hidden" name="${name}" value="${escapeXml(params.get(name) ?? "")}">`,
      )
      .join("");
    return html(
      `<body><main><h1>Sign in as</h1><p>A local stand-in SAML identity provider: no password, whoever you name here is signed in.</p>` +
        `<form method="post" action="${escapeXml(`${entityId(realm)}/sign-in`)}">${hidden}` +
        `<p><label>Email <input name="email" type="email" required value="${escapeXml(user.email)}"></label></p>` +
        `<p><label>Groups (comma-separated) <input name="groups" value="${escapeXml((user.groups ?? []).join(", "))}"></label></p>` +
        "<button>Sign in</button></form></main></body>",
    );
  }

  /** The sign-in form's answer: a signed Response for whoever was named. */
  async function signIn(realm: string, form: URLSearchParams) {
    const groups = (form.get("groups") ?? "")
      .split(",")
      .map((g) => g.trim())
      .filter(Boolean);
    return sso(realm, form, { email: form.get("email") ?? "", groups });
  }

  return {
    baseUrl,
    entityId,
    metadataUrl: (realm: string) => `${entityId(realm)}/metadata`,
    metadata,
    /** An unsolicited Response for the SP (IdP-initiated), as the IdP's app tile would post it. */
    idpInitiated: async (realm: string, spEntityId: string) =>
      postForm(
        `${spEntityId}/acs`,
        await response(realm, { entityId: spEntityId, acs: `${spEntityId}/acs` }, null),
        null,
      ),
    configure(realm: string, change: RealmSettings) {
      realms.set(realm, { ...settings(realm), ...change });
    },
    async fetch(request: Request): Promise<Response> {
      const url = new URL(request.url);
      const [realm = "", action = ""] = url.pathname.slice(1).split("/");
      if (realm === "_saml" && request.method === "POST") {
        const { realm: name, ...change } = (await request.json()) as RealmSettings & {
          realm: string;
        };
        this.configure(name, change);
        return Response.json({ ok: true });
      }
      switch (action) {
        case "metadata":
          return new Response(metadata(realm), {
            headers: { "content-type": "application/samlmetadata+xml" },
          });
        case "sso":
          return settings(realm).signInForm
            ? signInPage(realm, url.searchParams)
            : sso(realm, url.searchParams);
        case "sign-in":
          return signIn(realm, new URLSearchParams(await request.text()));
        case "idp-initiated":
          return this.idpInitiated(realm, url.searchParams.get("sp") ?? "");
        default:
          return html("<body>not found</body>", 404);
      }
    },
  };
}
