import { IDP_CLIENT_SECRET, IDP_ISSUER } from "../../../tests/oidc-idp";
import { addOverride, api, type TestTenant } from "./helpers";

export { IDP_CLIENT_SECRET, IDP_ISSUER };

/** Publishes TXT values at the stand-in resolver (the production seam is DNS-over-HTTPS). */
export async function publishTxt(name: string, values: string[]) {
  const res = await fetch("https://cloudflare-dns.com/_dns/txt", {
    method: "POST",
    body: JSON.stringify({ name, values }),
  });
  await res.body?.cancel();
}

/** Bends the stand-in provider's next ID token for this email. */
export async function scriptIdp(email: string, tweaks: Record<string, unknown>) {
  const res = await fetch(`${IDP_ISSUER}/_idp/script`, {
    method: "POST",
    body: JSON.stringify({ email, ...tweaks }),
  });
  await res.body?.cancel();
}

export const grantSso = (t: TestTenant) =>
  addOverride(t, { type: "feature", key: "sso", value: true, reason: "SSO tests" });

export async function createConnection(t: TestTenant, body: Record<string, unknown> = {}) {
  const res = await api("POST", "/v1/sso/connections", {
    slug: t.slug,
    token: t.owner.token,
    body: {
      name: "Stand-in IdP",
      issuer: IDP_ISSUER,
      client_id: `client-${t.slug}`,
      client_secret: IDP_CLIENT_SECRET,
      ...body,
    },
  });
  if (res.status !== 201) throw new Error(JSON.stringify(res.body));
  return res.body as { id: string; redirect_uri: string };
}

/** A connection serving `domain`, verified through the resolver seam and switched on. */
export async function enabledConnection(t: TestTenant, domain = `${t.slug}-corp.example`) {
  await grantSso(t);
  const connection = await createConnection(t);
  const added = await api("POST", `/v1/sso/connections/${connection.id}/domains`, {
    slug: t.slug,
    token: t.owner.token,
    body: { domain },
  });
  await publishTxt(added.body.verification.name, [added.body.verification.value]);
  const verified = await api(
    "POST",
    `/v1/sso/connections/${connection.id}/domains/${domain}/verify`,
    {
      slug: t.slug,
      token: t.owner.token,
    },
  );
  if (verified.status !== 200) throw new Error(JSON.stringify(verified.body));
  await api("PATCH", `/v1/sso/connections/${connection.id}`, {
    slug: t.slug,
    token: t.owner.token,
    body: { enabled: true },
  });
  return { connection, domain };
}

/**
 * Plays the browser: starts the sign-in, follows the provider's redirect back, and returns the
 * state and code the tenant app's callback would post (and the authorization URL it was sent to).
 */
export async function ssoRedirect(t: TestTenant, email: string) {
  const start = await api("POST", "/v1/auth/sso/start", { slug: t.slug, body: { email } });
  if (start.status !== 200) throw new Error(JSON.stringify(start.body));
  const authorization = new URL(start.body.authorization_url);
  const res = await fetch(authorization, { redirect: "manual" });
  await res.body?.cancel();
  const back = new URL(res.headers.get("location") ?? "");
  return {
    authorization,
    back,
    state: back.searchParams.get("state") ?? "",
    code: back.searchParams.get("code") ?? "",
  };
}

export function finish(t: TestTenant, body: { state: string; code: string }) {
  return api("POST", "/v1/auth/sso/callback", {
    slug: t.slug,
    body: { state: body.state, code: body.code },
  });
}
