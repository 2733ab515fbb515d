// Connects the demo tenant to `npm run dev`'s demo SAML IdP (scripts/demo-idp.ts) in the LOCAL
// platform, so single sign-on can be tried at once: the `sso` feature through an entitlement
// override (as an operator grants it), then, as the tenant's owner through the API, what the
// settings page does. Idempotent: a restart finds the connection, re-reads its metadata (the IdP
// signs with fresh keys on every start) and restores what the demo needs.
import { DEMO_IDP_URL, DEMO_SSO } from "./lib/demo-sso.mjs";
import { call, controlSql } from "./lib/platform.mjs";

/** `port`: the local platform's; `token`: the demo tenant owner's access token. */
export async function seedDemoSso(port, token) {
  const api = async (method, path, body) => {
    const r = await call(port, { slug: DEMO_SSO.tenant, method, path, body, token });
    if (r.status >= 300)
      throw new Error(`${method} ${path} answered ${r.status}: ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const me = await api("GET", "/v1/me");
  grantSso(me.tenant.id);
  const metadataUrl = `${DEMO_IDP_URL}/metadata`;
  const existing = (await api("GET", "/v1/sso/connections")).data.find(
    (c) => c.saml?.metadata_url === metadataUrl,
  );
  const connection = existing
    ? await api("POST", `/v1/sso/connections/${existing.id}/metadata/refresh`)
    : await api("POST", "/v1/sso/connections/saml", {
        name: DEMO_SSO.connectionName,
        metadata_url: metadataUrl,
        default_role: "member",
        role_mapping: DEMO_SSO.roleMapping,
      });
  const path = `/v1/sso/connections/${connection.id}`;
  const domain =
    connection.domains.find((d) => d.domain === DEMO_SSO.domain) ??
    (await api("POST", `${path}/domains`, { domain: DEMO_SSO.domain }));
  if (!domain.verified) {
    // The DoH stand-in keeps records in memory: publish the proof, then verify.
    await fetch(`http://localhost:${DEMO_SSO.dohPort}/_dns/txt`, {
      method: "POST",
      body: JSON.stringify({ name: domain.verification.name, values: [domain.verification.value] }),
    });
    await api("POST", `${path}/domains/${DEMO_SSO.domain}/verify`);
  }
  if (!connection.enabled) await api("PATCH", path, { enabled: true });
}

/**
 * The override row as tests/e2e/platform.ts `grantFeature` writes it. A feature, not a limit:
 * `requireFeature` reads overrides from the control database on every request, so the meter
 * (which caches limits for up to a minute unless told with `refreshMeter`) need not hear of it.
 */
function grantSso(tenantId) {
  const override = JSON.stringify({
    type: "feature",
    key: "sso",
    value: true,
    reason: "npm run dev: the single sign-on demo",
    expiresAt: null,
  });
  controlSql(
    `INSERT INTO entitlement_overrides (id, tenant_id, override, expires_at, created_at)
     VALUES ('ovr_demo_sso_${tenantId}', '${tenantId}', '${override}', NULL, ${Date.now()})
     ON CONFLICT(id) DO NOTHING`,
  );
}
