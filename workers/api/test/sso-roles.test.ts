/** SSO role mapping (issue 12 §1): a claim's values give the role at each sign-in. */
import { newId } from "@tenantry/schema";
import { describe, expect, it } from "vitest";
import { roleFromClaims } from "../src/services/sso/role-mapping";
import {
  addMember,
  addOverride,
  api,
  auditRows,
  createTenant,
  expectProblem,
  type TestTenant,
  tenantD1,
} from "./helpers";
import { enabledConnection, finish, grantSso, scriptIdp, ssoRedirect } from "./sso-helpers";

const MAPPING = {
  claim: "groups",
  rules: [
    { value: "Admins", role: "admin" },
    { value: "Finance", role: "billing" },
  ],
};

function setMapping(t: TestTenant, id: string, role_mapping: unknown) {
  return api("PATCH", `/v1/sso/connections/${id}`, {
    slug: t.slug,
    token: t.owner.token,
    body: { role_mapping },
  });
}

async function signInWith(t: TestTenant, email: string, groups: unknown) {
  await scriptIdp(email, { claims: { groups } });
  const res = await finish(t, await ssoRedirect(t, email));
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const me = await api("GET", "/v1/me", { slug: t.slug, token: res.body.access_token });
  return me.body.role as string;
}

describe("roleFromClaims", () => {
  it("takes the first rule whose value the claim holds, as a string or in an array", () => {
    expect(roleFromClaims(MAPPING as never, { groups: ["Staff", "Finance", "Admins"] })).toBe(
      "admin",
    );
    expect(roleFromClaims(MAPPING as never, { groups: "Finance" })).toBe("billing");
    expect(roleFromClaims(MAPPING as never, { groups: ["Staff"] })).toBeNull();
    expect(roleFromClaims(MAPPING as never, { groups: [{ Admins: true }] })).toBeNull();
    expect(roleFromClaims(MAPPING as never, {})).toBeNull();
  });
});

describe("role mapping on a connection", () => {
  it("is validated: a claim, rules of known roles, never owner; stored, shown and audited", async () => {
    const t = await createTenant();
    const { connection } = await enabledConnection(t);
    for (const bad of [
      { claim: "groups", rules: [{ value: "Boss", role: "owner" }] },
      { claim: "groups", rules: [{ value: "X", role: "wizard" }] },
      { claim: "", rules: [{ value: "X", role: "admin" }] },
      { claim: "groups", rules: [] },
      { claim: "groups", rules: [{ value: "X", role: "admin" }], extra: 1 },
    ])
      expectProblem(await setMapping(t, connection.id, bad), 400);
    // Nor can the default role make owners.
    expectProblem(
      await api("PATCH", `/v1/sso/connections/${connection.id}`, {
        slug: t.slug,
        token: t.owner.token,
        body: { default_role: "owner" },
      }),
      400,
    );
    const saved = await setMapping(t, connection.id, MAPPING);
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
    expect(saved.body.role_mapping).toEqual(MAPPING);
    const [update] = (await auditRows(t, "sso_connection.update")).slice(-1);
    expect(JSON.parse(update!.after).role_mapping).toEqual(MAPPING);
    const cleared = await setMapping(t, connection.id, null);
    expect(cleared.body.role_mapping).toBeNull();
  });

  it("is accepted when the connection is created", async () => {
    const t = await createTenant();
    await grantSso(t);
    const res = await api("POST", "/v1/sso/connections", {
      slug: t.slug,
      token: t.owner.token,
      body: {
        name: "Mapped",
        issuer: "https://idp.tenantry-test.example",
        client_id: `client-${t.slug}`,
        client_secret: "idp-client-secret",
        role_mapping: MAPPING,
      },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.role_mapping).toEqual(MAPPING);
  });

  it("gives a just-in-time member the mapped role, or the default role without a match", async () => {
    const t = await createTenant();
    const { connection, domain } = await enabledConnection(t);
    await addOverride(t, { type: "limit", key: "seats", value: 10, hard: true, reason: "roles" });
    await setMapping(t, connection.id, MAPPING);
    expect(await signInWith(t, `ada@${domain}`, ["Staff", "Admins"])).toBe("admin");
    expect(await signInWith(t, `bea@${domain}`, "Finance")).toBe("billing");
    expect(await signInWith(t, `cy@${domain}`, ["Staff"])).toBe("member");
    const joins = (await auditRows(t, "member.join")).map((r) => JSON.parse(r.after));
    expect(joins.find((j) => j.email === `ada@${domain}`)).toMatchObject({
      role: "admin",
      via: "sso",
    });
  });

  it("follows the claims on later sign-ins, audited; owners and unmapped connections are left alone", async () => {
    const t = await createTenant();
    const { connection, domain } = await enabledConnection(t);
    const email = `dee@${domain}`;
    // Without a mapping, a role changed in the app stays.
    expect(await signInWith(t, email, ["Admins"])).toBe("member");
    await setMapping(t, connection.id, MAPPING);
    expect(await signInWith(t, email, ["Admins"])).toBe("admin");
    expect(await signInWith(t, email, ["Admins"])).toBe("admin");
    expect(await signInWith(t, email, [])).toBe("member");
    const changes = (await auditRows(t, "member.role_change")).map((r) => ({
      actor: r.actor_type,
      before: JSON.parse(r.before),
      after: JSON.parse(r.after),
    }));
    expect(changes).toEqual([
      {
        actor: "user",
        before: { role: "member" },
        after: { role: "admin", via: "sso", connection_id: connection.id },
      },
      {
        actor: "user",
        before: { role: "admin" },
        after: { role: "member", via: "sso", connection_id: connection.id },
      },
    ]);

    const boss = await addMember(t, "owner", { userId: newId("user"), email: `boss@${domain}` });
    expect(await signInWith(t, boss.email, ["Finance"])).toBe("owner");
    expect(await auditRows(t, "member.role_change")).toHaveLength(2);
  });

  it("parallel sign-ins change the role once: the update is guarded on the role it read", async () => {
    const t = await createTenant();
    const { connection, domain } = await enabledConnection(t);
    const email = `eve@${domain}`;
    expect(await signInWith(t, email, [])).toBe("member");
    // No groups in these tokens: the mapping's fallback, the default role, now admin, applies.
    await api("PATCH", `/v1/sso/connections/${connection.id}`, {
      slug: t.slug,
      token: t.owner.token,
      body: { role_mapping: MAPPING, default_role: "admin" },
    });
    const flows = await Promise.all([1, 2, 3].map(() => ssoRedirect(t, email)));
    const results = await Promise.all(flows.map((f) => finish(t, f)));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(await auditRows(t, "member.role_change")).toHaveLength(1);
    const row = await tenantD1(t)
      .prepare("SELECT role FROM members WHERE email = ?")
      .bind(email)
      .first();
    expect(row).toEqual({ role: "admin" });
  });
});
