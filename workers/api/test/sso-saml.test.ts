/**
 * SAML connections and sign-in (issue 12 §1–2) against a real SAML IdP: samlify acting as IdP
 * in the vitest config's outbound service (tests/saml-idp.ts), each test in its own realm.
 */
import { newId } from "@tenantry/schema";
import { describe, expect, it } from "vitest";
import { formValues, type RealmSettings, SAML_IDP_HOST } from "../../../tests/saml-idp";
import { SSO_FINISH_LIMIT } from "../src/services/throttle";
import {
  addMember,
  api,
  auditRows,
  count,
  createTenant,
  expectProblem,
  PASSWORD,
  type TestTenant,
  tenantD1,
} from "./helpers";
import { grantSso, publishTxt } from "./sso-helpers";

const IDP = `https://${SAML_IDP_HOST}`;

interface SamlConnection {
  id: string;
  protocol: "saml";
  saml: {
    idp_entity_id: string;
    idp_sso_url: string;
    certificates: { sha256: string; not_after: string }[];
    metadata_url: string | null;
    allow_idp_initiated: boolean;
    sp: { entity_id: string; acs_url: string; metadata_url: string };
  };
}

/** Sets the realm's state at the stand-in IdP (user signed in there, key, published certs, next tweak). */
async function idp(realm: string, change: RealmSettings) {
  const res = await fetch(`${IDP}/_saml`, {
    method: "POST",
    body: JSON.stringify({ realm, ...change }),
  });
  await res.body?.cancel();
}

const owner = (t: TestTenant) => ({ slug: t.slug, token: t.owner.token });

async function createSaml(t: TestTenant, body: Record<string, unknown>) {
  const res = await api("POST", "/v1/sso/connections/saml", {
    ...owner(t),
    body: { name: "Stand-in SAML IdP", ...body },
  });
  if (res.status !== 201) throw new Error(JSON.stringify(res.body));
  return res.body as SamlConnection;
}

/** A SAML connection from the realm's metadata URL, serving a verified domain, switched on. */
async function enabledSaml(t: TestTenant, body: Record<string, unknown> = {}) {
  await grantSso(t);
  const realm = t.slug;
  const domain = `${t.slug}-corp.example`;
  const connection = await createSaml(t, { metadata_url: `${IDP}/${realm}/metadata`, ...body });
  const added = await api("POST", `/v1/sso/connections/${connection.id}/domains`, {
    ...owner(t),
    body: { domain },
  });
  await publishTxt(added.body.verification.name, [added.body.verification.value]);
  const verified = await api(
    "POST",
    `/v1/sso/connections/${connection.id}/domains/${domain}/verify`,
    owner(t),
  );
  expect(verified.status).toBe(200);
  await api("PATCH", `/v1/sso/connections/${connection.id}`, {
    ...owner(t),
    body: { enabled: true },
  });
  return { connection, domain, realm };
}

/** Plays the browser: start (SP-initiated), the IdP's redirect-binding endpoint, its POST form. */
async function spInitiated(t: TestTenant, email: string) {
  const start = await api("POST", "/v1/auth/sso/start", { slug: t.slug, body: { email } });
  if (start.status !== 200) throw new Error(JSON.stringify(start.body));
  const page = await fetch(start.body.authorization_url);
  return { start: new URL(start.body.authorization_url), form: formValues(await page.text()) };
}

async function idpInitiated(realm: string, c: SamlConnection) {
  const page = await fetch(
    `${IDP}/${realm}/idp-initiated?sp=${encodeURIComponent(c.saml.sp.entity_id)}`,
  );
  return formValues(await page.text());
}

/** What the tenant app's ACS passes on. */
function acs(t: TestTenant, c: SamlConnection, form: ReturnType<typeof formValues>) {
  expect(form.action).toBe(c.saml.sp.acs_url);
  return api("POST", `/v1/auth/sso/saml/${c.id}/acs`, {
    slug: t.slug,
    body: { saml_response: form.samlResponse, relay_state: form.relayState },
  });
}

const reasons = async (t: TestTenant) =>
  (await auditRows(t, "sso.refuse")).map((r) => JSON.parse(r.after).reason);

describe("SAML connections", () => {
  it("an owner adds a SAML connection from a metadata URL: IdP values, our SP values, audited", async () => {
    const t = await createTenant();
    await grantSso(t);
    const c = await createSaml(t, { metadata_url: `${IDP}/${t.slug}/metadata` });
    expect(c).toMatchObject({
      protocol: "saml",
      enabled: false,
      saml: {
        idp_entity_id: `${IDP}/${t.slug}`,
        idp_sso_url: `${IDP}/${t.slug}/sso`,
        metadata_url: `${IDP}/${t.slug}/metadata`,
        metadata_fetched_at: expect.any(String),
        allow_idp_initiated: false,
        groups_attribute: "groups",
        certificates: [
          {
            sha256: expect.stringMatching(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/),
            not_after: expect.any(String),
          },
        ],
        sp: {
          entity_id: expect.stringMatching(new RegExp(`//${t.slug}\\..*/sso/saml/${c.id}$`)),
          acs_url: `${c.saml.sp.entity_id}/acs`,
          metadata_url: `${c.saml.sp.entity_id}/metadata`,
        },
      },
    });
    const [audit] = await auditRows(t, "sso_connection.create");
    expect(JSON.parse(audit!.after)).toMatchObject({
      idp_entity_id: `${IDP}/${t.slug}`,
      certificates: [c.saml.certificates[0]!.sha256],
    });

    // Our SP metadata, public on the tenant's host.
    const metadata = await api("GET", `/v1/auth/sso/saml/${c.id}/metadata`, { slug: t.slug });
    expect(metadata.status).toBe(200);
    expect(metadata.headers.get("content-type")).toContain("application/samlmetadata+xml");
    expect(metadata.body).toContain(`entityID="${c.saml.sp.entity_id}"`);
    expect(metadata.body).toContain(`Location="${c.saml.sp.acs_url}"`);
    expect(
      (await api("GET", "/v1/auth/sso/saml/ssc_missing/metadata", { slug: t.slug })).status,
    ).toBe(404);
  });

  it("metadata uploaded as XML; bad metadata is a 422 that says why", async () => {
    const t = await createTenant();
    await grantSso(t);
    const xml = await (await fetch(`${IDP}/${t.slug}/metadata`)).text();
    const c = await createSaml(t, { metadata_xml: xml, allow_idp_initiated: true });
    expect(c.saml).toMatchObject({ metadata_url: null, allow_idp_initiated: true });
    expect(c.saml.certificates).toHaveLength(1);

    const bad = (metadata_xml: string) =>
      api("POST", "/v1/sso/connections/saml", {
        ...owner(t),
        body: { name: "x", metadata_xml },
      });
    expectProblem(await bad("<not xml"), 422, "invalid_metadata");
    const withoutKeys = xml.replace(/<md:KeyDescriptor[\s\S]*<\/md:KeyDescriptor>/, "");
    const noKey = await bad(withoutKeys);
    expectProblem(noKey, 422, "invalid_metadata");
    expect(noKey.body.detail).toMatch(/no signing certificate/);
    const brokenCert = await bad(
      xml.replace(/<ds:X509Certificate>[^<]{20}/, "<ds:X509Certificate>"),
    );
    expect(brokenCert.body.detail).toMatch(/Signing certificate 1 cannot be used/);
    const noRedirect = await bad(xml.replace(/HTTP-Redirect/, "SOAP"));
    expect(noRedirect.body.detail).toMatch(/HTTP-Redirect/);
    expectProblem(
      await api("POST", "/v1/sso/connections/saml", {
        ...owner(t),
        body: { name: "x", metadata_url: `${IDP}/nowhere/missing` },
      }),
      422,
      "invalid_metadata",
    );
    // Exactly one source.
    expectProblem(
      await api("POST", "/v1/sso/connections/saml", { ...owner(t), body: { name: "x" } }),
      400,
      "invalid_request",
    );
  });

  it("PATCH changes a SAML connection's settings and metadata, audited; an OIDC setting on it is refused", async () => {
    const t = await createTenant();
    await grantSso(t);
    const c = await createSaml(t, { metadata_url: `${IDP}/${t.slug}/metadata` });
    await idp(t.slug, { published: ["b"] });
    const xml = await (await fetch(`${IDP}/${t.slug}/metadata`)).text();
    const changed = await api("PATCH", `/v1/sso/connections/${c.id}`, {
      ...owner(t),
      body: { allow_idp_initiated: true, groups_attribute: "memberOf", metadata_xml: xml },
    });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    expect(changed.body.saml).toMatchObject({
      allow_idp_initiated: true,
      groups_attribute: "memberOf",
      metadata_url: null,
    });
    expect(changed.body.saml.certificates[0].sha256).not.toBe(c.saml.certificates[0]!.sha256);
    const [audit] = await auditRows(t, "sso_connection.update");
    expect(JSON.parse(audit!.before)).toMatchObject({ allow_idp_initiated: false });
    expect(JSON.parse(audit!.after)).toMatchObject({
      allow_idp_initiated: true,
      groups_attribute: "memberOf",
      certificates: [changed.body.saml.certificates[0].sha256],
    });
    expectProblem(
      await api("PATCH", `/v1/sso/connections/${c.id}`, {
        ...owner(t),
        body: { client_secret: "not for saml" },
      }),
      400,
      "invalid_request",
    );
  });
});

describe("SAML sign-in", () => {
  it("SP-initiated: the first sign-in creates the member just in time; the session works", async () => {
    const t = await createTenant();
    const { connection, domain, realm } = await enabledSaml(t);
    const email = `jit@${domain}`;
    await idp(realm, { user: { email, groups: ["Admins", "Engineering"] } });
    const { start, form } = await spInitiated(t, email);
    expect(start.origin + start.pathname).toBe(connection.saml.idp_sso_url);
    expect(start.searchParams.get("SAMLRequest")).toBeTruthy();
    expect(form.relayState).toBe(start.searchParams.get("RelayState"));
    const row = await tenantD1(t)
      .prepare("SELECT saml_request_id FROM sso_logins")
      .first<{ saml_request_id: string }>();
    expect(row!.saml_request_id).toMatch(/^_/);

    const signedIn = await acs(t, connection, form);
    expect(signedIn.status, JSON.stringify(signedIn.body)).toBe(200);
    const me = await api("GET", "/v1/me", { slug: t.slug, token: signedIn.body.access_token });
    expect(me.body).toMatchObject({ user: { email }, role: "member" });
    const [signIn] = await auditRows(t, "sso.sign_in");
    expect(JSON.parse(signIn!.after)).toMatchObject({
      protocol: "saml",
      email,
      subject: email,
      just_in_time: true,
    });
    // The second sign-in finds the member.
    const again = await spInitiated(t, email);
    expect((await acs(t, connection, again.form)).status).toBe(200);
  });

  it("roles come from the groups attribute (role mapping), and Enforce SSO refuses passwords for the SAML domain", async () => {
    const t = await createTenant();
    const { connection, domain, realm } = await enabledSaml(t, {
      role_mapping: { claim: "groups", rules: [{ value: "Admins", role: "admin" }] },
    });
    const email = `grace@${domain}`;
    await idp(realm, { user: { email, groups: ["Admins"] } });
    const signedIn = await acs(t, connection, (await spInitiated(t, email)).form);
    expect(signedIn.status, JSON.stringify(signedIn.body)).toBe(200);
    const me = await api("GET", "/v1/me", { slug: t.slug, token: signedIn.body.access_token });
    expect(me.body).toMatchObject({ user: { email }, role: "admin" });

    // Out of the group at the IdP: the next sign-in gives the default role back, audited.
    await idp(realm, { user: { email, groups: [] } });
    expect((await acs(t, connection, (await spInitiated(t, email)).form)).status).toBe(200);
    const row = await tenantD1(t)
      .prepare("SELECT role FROM members WHERE email = ?")
      .bind(email)
      .first<{ role: string }>();
    expect(row!.role).toBe("member");
    expect(await auditRows(t, "member.role_change")).toHaveLength(1);

    const enforce = await api("PATCH", `/v1/sso/connections/${connection.id}`, {
      ...owner(t),
      body: { enforced: true },
    });
    expect(enforce.body.enforced).toBe(true);
    const bob = await addMember(t, "member", { userId: newId("user"), email: `bob@${domain}` });
    expectProblem(
      await api("POST", "/v1/auth/login", {
        slug: t.slug,
        body: { email: bob.email, password: PASSWORD },
      }),
      403,
      "sso_required",
    );
  });

  it("IdP-initiated: refused while off (unsolicited), accepted once the owner turns it on", async () => {
    const t = await createTenant();
    const { connection, domain, realm } = await enabledSaml(t);
    await idp(realm, { user: { email: `tile@${domain}` } });
    expectProblem(
      await acs(t, connection, await idpInitiated(realm, connection)),
      401,
      "unauthorized",
    );
    expect(await reasons(t)).toEqual(["unsolicited"]);
    await api("PATCH", `/v1/sso/connections/${connection.id}`, {
      ...owner(t),
      body: { allow_idp_initiated: true },
    });
    const res = await acs(t, connection, await idpInitiated(realm, connection));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  });

  it("a response is accepted once: replayed it is refused, and parallel posts make one session", async () => {
    const t = await createTenant();
    const { connection, domain, realm } = await enabledSaml(t, { allow_idp_initiated: true });
    await idp(realm, { user: { email: `replay@${domain}` } });
    const { form } = await spInitiated(t, `replay@${domain}`);
    expect((await acs(t, connection, form)).status).toBe(200);
    expectProblem(await acs(t, connection, form), 401, "unauthorized");
    expect(await reasons(t)).toEqual(["replayed"]);

    const sessionsBefore = await count(tenantD1(t), "sessions");
    const unsolicited = await idpInitiated(realm, connection);
    const results = await Promise.all(
      Array.from({ length: 4 }, () => acs(t, connection, unsolicited)),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 401, 401, 401]);
    expect(await count(tenantD1(t), "sessions")).toBe(sessionsBefore + 1);
    expect(await reasons(t)).toEqual(["replayed", "replayed", "replayed", "replayed"]);
  });

  it("certificate rollover: both keys during the switch, the old one refused after a refresh", async () => {
    const t = await createTenant();
    const { connection, domain, realm } = await enabledSaml(t);
    const email = `roll@${domain}`;
    await idp(realm, { user: { email }, published: ["a", "b"] });
    const refresh = () =>
      api("POST", `/v1/sso/connections/${connection.id}/metadata/refresh`, owner(t));
    const both = await refresh();
    expect(both.status).toBe(200);
    expect(both.body.saml.certificates).toHaveLength(2);

    await idp(realm, { signWith: "b" });
    expect((await acs(t, connection, (await spInitiated(t, email)).form)).status).toBe(200);

    await idp(realm, { published: ["b"] });
    const onlyNew = await refresh();
    expect(onlyNew.body.saml.certificates).toEqual([both.body.saml.certificates[1]]);
    const [audit] = await auditRows(t, "sso_connection.metadata_refresh").then((r) => r.slice(-1));
    expect(JSON.parse(audit!.before).certificates).toEqual(
      both.body.saml.certificates.map((c: { sha256: string }) => c.sha256),
    );
    expect(JSON.parse(audit!.after).certificates).toEqual([
      onlyNew.body.saml.certificates[0].sha256,
    ]);

    await idp(realm, { signWith: "a" });
    expectProblem(
      await acs(t, connection, (await spInitiated(t, email)).form),
      401,
      "unauthorized",
    );
    expect(await reasons(t)).toEqual(["bad_signature"]);
    // Refresh needs a metadata URL.
    const uploaded = await createSaml(t, {
      metadata_xml: await (await fetch(`${IDP}/${realm}/metadata`)).text(),
    });
    expectProblem(
      await api("POST", `/v1/sso/connections/${uploaded.id}/metadata/refresh`, owner(t)),
      409,
      "no_metadata_url",
    );
  });

  it.each([
    ["unsigned", { unsigned: true }, "unsigned"],
    ["signed by a key the IdP never published", { signWith: "rogue" }, "bad_signature"],
    ["wrapped: a forged assertion before the signed one", { wrap: "ceo@" }, "assertion_count"],
    ["with a comment inside the NameID", { nameIdComment: true }, "comment_in_value"],
    ["for another audience", { audience: "https://other-sp.example" }, "audience_mismatch"],
    ["expired", { expired: true }, "expired"],
  ] as const)(
    "a response %s is refused: 401, the reason audited, no session",
    async (_, tweak, reason) => {
      const t = await createTenant();
      const { connection, domain, realm } = await enabledSaml(t);
      const email = `bent@${domain}`;
      const { signWith, ...next } = tweak as { signWith?: "rogue" } & Record<string, unknown>;
      await idp(realm, {
        user: { email },
        ...(signWith ? { signWith } : {}),
        next: "wrap" in next ? { wrap: `ceo@${domain}` } : next,
      });
      const sessionsBefore = await count(tenantD1(t), "sessions");
      const res = await acs(t, connection, (await spInitiated(t, email)).form);
      expectProblem(res, 401, "unauthorized");
      expect(JSON.stringify(res.body)).not.toContain(reason);
      expect(await count(tenantD1(t), "sessions")).toBe(sessionsBefore);
      expect(await count(tenantD1(t), "members")).toBe(1);
      expect(await reasons(t)).toEqual([reason]);
    },
  );

  it("ACS posts are throttled per client: 40 parallel posts, exactly the budget answered", async () => {
    const t = await createTenant();
    const { connection } = await enabledSaml(t);
    const post = () =>
      api("POST", `/v1/auth/sso/saml/${connection.id}/acs`, {
        slug: t.slug,
        body: { saml_response: "PHg+", relay_state: null },
        headers: { "cf-connecting-ip": "203.0.113.7" },
      });
    const statuses = (await Promise.all(Array.from({ length: 40 }, post))).map((r) => r.status);
    expect(statuses.filter((s) => s === 401).length).toBe(SSO_FINISH_LIMIT.max);
    expect(statuses.filter((s) => s === 429).length).toBe(40 - SSO_FINISH_LIMIT.max);
    expect(await reasons(t)).toHaveLength(SSO_FINISH_LIMIT.max);
  });

  it("test connection shows the parsed NameID and attributes, and signs nobody in", async () => {
    const t = await createTenant();
    const { connection, domain, realm } = await enabledSaml(t);
    const email = `try@${domain}`;
    await idp(realm, { user: { email, groups: ["Admins"] } });
    const started = await api("POST", `/v1/sso/connections/${connection.id}/test`, owner(t));
    expect(started.status).toBe(200);
    const page = await fetch(started.body.authorization_url);
    const res = await acs(t, connection, formValues(await page.text()));
    expect(res.status).toBe(200);
    expect(res.body.test).toMatchObject({
      domain_served: true,
      claims: { name_id: email, email, groups: ["Admins"] },
    });
    expect(await count(tenantD1(t), "members")).toBe(1);
  });
});
