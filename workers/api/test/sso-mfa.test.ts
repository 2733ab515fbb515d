/**
 * SSO and MFA (issue 12 §1, ADR 023): step-up on SSO settings; SSO sessions satisfy the
 * require-MFA policy through the IdP; how SSO members step up.
 */
import { totpCode } from "@tenantry/core/totp";
import { describe, expect, it } from "vitest";
import { STEP_UP_WINDOW_MS } from "../src/services/mfa";
import {
  addMember,
  api,
  auditRows,
  createTenant,
  expectProblem,
  PASSWORD,
  type TestTenant,
  tenantD1,
} from "./helpers";
import { enrolOwner, expireStepUp, unusedCode } from "./mfa-helpers";
import {
  createConnection,
  enabledConnection,
  finish,
  IDP_CLIENT_SECRET,
  IDP_ISSUER,
  ssoRedirect,
} from "./sso-helpers";

async function ssoSignIn(t: TestTenant, email: string): Promise<string> {
  const res = await finish(t, await ssoRedirect(t, email));
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.access_token;
}

const createKey = (t: TestTenant, token: string) =>
  api("POST", "/v1/api-keys", {
    slug: t.slug,
    token,
    body: { name: "k", permissions: ["members:read"] },
  });

describe("step-up on SSO settings", () => {
  it("every change of SSO or SCIM configuration needs a recent second factor of a member with MFA", async () => {
    const t = await createTenant();
    const { connection, domain } = await enabledConnection(t);
    const other = await createConnection(t);
    const { secret } = await enrolOwner(t);
    await expireStepUp(t);
    const as = { slug: t.slug, token: t.owner.token };
    const base = `/v1/sso/connections/${connection.id}`;
    const changes = [
      () =>
        api("POST", "/v1/sso/connections", {
          ...as,
          body: { name: "x", issuer: IDP_ISSUER, client_id: "c", client_secret: IDP_CLIENT_SECRET },
        }),
      () => api("PATCH", base, { ...as, body: { enforced: true } }),
      () => api("PATCH", base, { ...as, body: { name: "Renamed" } }),
      () => api("POST", `${base}/domains`, { ...as, body: { domain: `more-${domain}` } }),
      () => api("POST", `${base}/domains/${domain}/verify`, as),
      () => api("DELETE", `${base}/domains/${domain}`, as),
      () => api("DELETE", `/v1/sso/connections/${other.id}`, as),
      () =>
        api("POST", "/v1/sso/connections/saml", {
          ...as,
          body: { name: "x", metadata_xml: "<EntityDescriptor/>" },
        }),
      () => api("POST", `${base}/metadata/refresh`, as),
      () => api("POST", "/v1/scim-tokens", { ...as, body: { name: "Okta" } }),
    ];
    for (const change of changes) expectProblem(await change(), 403, "mfa_step_up_required");
    // Reading and testing change nothing: no step-up.
    expect((await api("GET", base, as)).status).toBe(200);
    expect((await api("POST", `${base}/test`, as)).status).toBe(200);

    const verified = await api("POST", "/v1/me/mfa/verify", {
      ...as,
      body: { code: await unusedCode(t, secret) },
    });
    expect(verified.status).toBe(200);
    expect((await changes[0]!()).status).toBe(201);
    expect((await changes[1]!()).status).toBe(200);
    expect((await changes[2]!()).status).toBe(200);
    expect((await changes[3]!()).status).toBe(201);
    expect((await changes[4]!()).status).toBe(200);
    expect((await changes[5]!()).status).toBe(204);
    expect((await changes[6]!()).status).toBe(204);
    // Past the step-up, the SAML ones meet their own checks (no metadata here).
    expectProblem(await changes[7]!(), 422, "invalid_metadata");
    expectProblem(await changes[8]!(), 409, "no_metadata_url");
    expect((await changes[9]!()).status).toBe(201);
  });
});

describe("SSO sessions and MFA", () => {
  it("an SSO session satisfies the owner's require-MFA policy; a password session is held", async () => {
    const t = await createTenant();
    const { domain } = await enabledConnection(t);
    await enrolOwner(t);
    const policy = await api("PATCH", "/v1/settings/security", {
      slug: t.slug,
      token: t.owner.token,
      body: { require_mfa: true },
    });
    expect(policy.status, JSON.stringify(policy.body)).toBe(200);
    const token = await ssoSignIn(t, `sam@${domain}`);
    const me = await api("GET", "/v1/me", { slug: t.slug, token });
    expect(me.body.mfa_enrolment_required).toBe(false);
    expect((await api("GET", "/v1/members", { slug: t.slug, token })).status).toBe(200);
    const row = await tenantD1(t)
      .prepare("SELECT signed_in_with, mfa_verified_at FROM sessions ORDER BY created_at DESC")
      .first();
    expect(row).toEqual({ signed_in_with: "sso", mfa_verified_at: null });
    const [created] = (await auditRows(t, "session.create")).slice(-1);
    expect(JSON.parse(created!.after)).toEqual({ via: "sso" });

    const pat = await addMember(t, "member");
    const login = await api("POST", "/v1/auth/login", {
      slug: t.slug,
      body: { email: pat.email, password: PASSWORD },
    });
    expectProblem(
      await api("GET", "/v1/members", { slug: t.slug, token: login.body.access_token }),
      403,
      "mfa_enrolment_required",
    );
  });

  it("an SSO member without TOTP steps up by signing in through SSO again", async () => {
    const t = await createTenant();
    const { connection, domain } = await enabledConnection(t);
    await api("PATCH", `/v1/sso/connections/${connection.id}`, {
      slug: t.slug,
      token: t.owner.token,
      body: { default_role: "admin" },
    });
    const email = `ida@${domain}`;
    const first = await ssoSignIn(t, email);
    // A fresh SSO sign-in is a recent proof.
    expect((await createKey(t, first)).status).toBe(201);
    await tenantD1(t)
      .prepare("UPDATE sessions SET created_at = ? WHERE signed_in_with = 'sso'")
      .bind(Date.now() - STEP_UP_WINDOW_MS - 1000)
      .run();
    expectProblem(await createKey(t, first), 403, "sso_step_up_required");
    const again = await ssoSignIn(t, email);
    expect((await createKey(t, again)).status).toBe(201);
  });

  it("an SSO member with TOTP still steps up with a code: the SSO sign-in is not one", async () => {
    const t = await createTenant();
    const { connection, domain } = await enabledConnection(t);
    await api("PATCH", `/v1/sso/connections/${connection.id}`, {
      slug: t.slug,
      token: t.owner.token,
      body: { default_role: "admin" },
    });
    const email = `tom@${domain}`;
    const first = await ssoSignIn(t, email);
    const start = await api("POST", "/v1/me/mfa/enrol", { slug: t.slug, token: first });
    const secret: string = start.body.secret;
    await api("POST", "/v1/me/mfa/confirm", {
      slug: t.slug,
      token: first,
      body: { code: totpCode(secret) },
    });
    const token = await ssoSignIn(t, email);
    expectProblem(await createKey(t, token), 403, "mfa_step_up_required");
    const verified = await api("POST", "/v1/me/mfa/verify", {
      slug: t.slug,
      token,
      body: { code: await unusedCode(t, secret) },
    });
    expect(verified.status).toBe(200);
    expect((await createKey(t, token)).status).toBe(201);
  });
});
