/** SSO and MFA (issue 12 §1, ADR 023): step-up on SSO settings. */
import { describe, expect, it } from "vitest";
import { api, createTenant, expectProblem } from "./helpers";
import { enrolOwner, expireStepUp, unusedCode } from "./mfa-helpers";
import { createConnection, enabledConnection, IDP_CLIENT_SECRET, IDP_ISSUER } from "./sso-helpers";

describe("step-up on SSO settings", () => {
  it("every change of SSO configuration needs a recent second factor of a member with MFA", async () => {
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
  });
});
