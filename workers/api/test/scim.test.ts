/**
 * SCIM 2.0 provisioning (issue 12 §4): the request shapes Okta and Entra ID send, filters and
 * paging, ETags, SCIM error bodies, seats, and deprovisioning that locks a member out at once.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createSession } from "../src/services/sessions";
import { SCIM_AUTH_LIMIT } from "../src/services/throttle";
import {
  type ApiResponse,
  addMember,
  addOverride,
  api,
  auditRows,
  createTenant,
  setStatus,
  type TestTenant,
  tenantD1,
} from "./helpers";

const USER = "urn:ietf:params:scim:schemas:core:2.0:User";
const ERROR = "urn:ietf:params:scim:api:messages:2.0:Error";
const PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

interface ScimTenant extends TestTenant {
  scimToken: string;
}

async function scimTenant(): Promise<ScimTenant> {
  const t = await createTenant();
  await addOverride(t, { type: "feature", key: "sso", value: true, reason: "SCIM tests" });
  const res = await api("POST", "/v1/scim-tokens", {
    slug: t.slug,
    token: t.owner.token,
    body: { name: "Okta" },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { ...t, scimToken: res.body.token };
}

const scim = (
  t: ScimTenant,
  method: string,
  path: string,
  opts: { body?: unknown; token?: string | null; headers?: Record<string, string> } = {},
) =>
  api(method, `/scim/v2${path}`, {
    slug: t.slug,
    ...(opts.token === null ? {} : { token: opts.token ?? t.scimToken }),
    body: opts.body,
    headers: { "content-type": "application/scim+json", ...opts.headers },
  });

function expectScimError(res: ApiResponse, status: number, scimType?: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.headers.get("content-type")).toBe("application/scim+json");
  expect(res.body).toMatchObject({ schemas: [ERROR], status: String(status) });
  if (scimType) expect(res.body.scimType).toBe(scimType);
  expect(res.body.detail).toEqual(expect.any(String));
}

/** The body Okta sends to create a user. */
const oktaUser = (email: string) => ({
  schemas: [USER],
  userName: email,
  name: { givenName: "Ada", familyName: "Lovelace" },
  emails: [{ primary: true, value: email, type: "work" }],
  displayName: "Ada Lovelace",
  locale: "en-US",
  externalId: `00u${crypto.randomUUID().slice(0, 8)}`,
  groups: [],
  password: "ignored-by-us",
  active: true,
});

/** The body Entra ID sends (enterprise extension, roles, UPN-shaped userName). */
const entraUser = (email: string) => ({
  schemas: [USER, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
  externalId: crypto.randomUUID(),
  userName: email,
  active: true,
  displayName: "Grace Hopper",
  emails: [{ primary: true, type: "work", value: email }],
  meta: { resourceType: "User" },
  name: { formatted: "Grace Hopper", familyName: "Hopper", givenName: "Grace" },
  roles: [],
  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": { department: "Navy" },
});

const email = (t: TestTenant, who: string) => `${who}@${t.slug}.example`;

async function memberRow(t: TestTenant, userEmail: string) {
  return tenantD1(t)
    .prepare("SELECT * FROM members WHERE email = ?")
    .bind(userEmail)
    .first<Record<string, any>>();
}

describe("SCIM token auth", () => {
  it("refuses no token, a wrong token, another tenant's token, access tokens and API keys", async () => {
    const [a, b] = [await scimTenant(), await scimTenant()];
    const key = await api("POST", "/v1/api-keys", {
      slug: a.slug,
      token: a.owner.token,
      body: { name: "k", permissions: ["members:manage", "members:read"] },
    });
    for (const token of [
      null,
      "garbage",
      `${a.scimToken.slice(0, -4)}AAAA`,
      b.scimToken,
      a.owner.token,
      key.body.key,
    ]) {
      const res = await scim(a, "GET", "/Users", { token });
      expectScimError(res, 401);
      expect(res.headers.get("www-authenticate")).toContain("Bearer");
    }
    expect((await scim(a, "GET", "/Users")).status).toBe(200);
  });

  it("a revoked token is refused on the next request; revocation is audited", async () => {
    const t = await scimTenant();
    const list = await api("GET", "/v1/scim-tokens", { slug: t.slug, token: t.owner.token });
    expect(list.body.data).toHaveLength(1);
    expect(JSON.stringify(list.body)).not.toContain(t.scimToken);
    const id = list.body.data[0].id;
    const del = await api("DELETE", `/v1/scim-tokens/${id}`, {
      slug: t.slug,
      token: t.owner.token,
    });
    expect(del.status).toBe(204);
    expectScimError(await scim(t, "GET", "/Users"), 401);
    expect(await auditRows(t, "scim_token.create")).toHaveLength(1);
    expect(await auditRows(t, "scim_token.revoke")).toHaveLength(1);
    const stored = await tenantD1(t).prepare("SELECT token_hash FROM scim_tokens").first<any>();
    expect(stored.token_hash).not.toContain(t.scimToken.slice(5));
  });

  it("only owners create tokens, and only on plans with sso; SCIM stops when the plan loses it", async () => {
    const free = await createTenant();
    const refused = await api("POST", "/v1/scim-tokens", {
      slug: free.slug,
      token: free.owner.token,
      body: { name: "Okta" },
    });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ code: "feature_not_in_plan", feature: "sso" });

    const t = await scimTenant();
    const admin = await addMember(t, "admin");
    const byAdmin = await api("POST", "/v1/scim-tokens", {
      slug: t.slug,
      token: admin.tokens.access_token,
      body: { name: "Okta" },
    });
    expect(byAdmin.status).toBe(403);
    expect(byAdmin.body.code).toBe("owner_required");

    await addOverride(t, { type: "feature", key: "sso", value: false, reason: "downgraded" });
    const res = await scim(t, "GET", "/Users");
    expectScimError(res, 403);
  });
});

describe("SCIM Users", () => {
  it("Okta: creates, finds by userName, deactivates and reactivates with PATCH", async () => {
    const t = await scimTenant();
    const ada = email(t, "Ada");
    const missing = await scim(
      t,
      "GET",
      `/Users?filter=${encodeURIComponent(`userName eq "${ada}"`)}&startIndex=1&count=100`,
    );
    expect(missing.status).toBe(200);
    expect(missing.headers.get("content-type")).toBe("application/scim+json");
    expect(missing.body).toMatchObject({ totalResults: 0, Resources: [] });

    const created = await scim(t, "POST", "/Users", { body: oktaUser(ada) });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({
      schemas: [USER],
      userName: ada.toLowerCase(),
      active: true,
      name: { givenName: "Ada", familyName: "Lovelace" },
      meta: { resourceType: "User" },
    });
    expect(created.headers.get("etag")).toBe(created.body.meta.version);
    const member = await memberRow(t, ada.toLowerCase());
    expect(member).toMatchObject({ role: "member" });

    const found = await scim(
      t,
      "GET",
      `/Users?filter=${encodeURIComponent(`userName eq "${ada.toUpperCase()}"`)}`,
    );
    expect(found.body.totalResults).toBe(1);
    expect(found.body.Resources[0].id).toBe(created.body.id);

    const off = await scim(t, "PATCH", `/Users/${created.body.id}`, {
      body: { schemas: [PATCH_OP], Operations: [{ op: "replace", value: { active: false } }] },
    });
    expect(off.status, JSON.stringify(off.body)).toBe(200);
    expect(off.body.active).toBe(false);
    expect(await memberRow(t, ada.toLowerCase())).toBeNull();

    const on = await scim(t, "PATCH", `/Users/${created.body.id}`, {
      body: { schemas: [PATCH_OP], Operations: [{ op: "replace", path: "active", value: true }] },
    });
    expect(on.body.active).toBe(true);
    expect(await memberRow(t, ada.toLowerCase())).toMatchObject({ role: "member" });

    // Every change is in the audit log, named by the SCIM token.
    const tokenId = (await api("GET", "/v1/scim-tokens", { slug: t.slug, token: t.owner.token }))
      .body.data[0].id;
    for (const action of [
      "scim_user.create",
      "scim_user.deactivate",
      "scim_user.reactivate",
      "member.join",
      "member.remove",
    ]) {
      const rows = await auditRows(t, action);
      expect(rows.length, action).toBeGreaterThan(0);
      expect(rows.at(-1)).toMatchObject({ actor_type: "scim_token", actor_id: tokenId });
    }
    const filtered = await api("GET", "/v1/audit-log?actor_type=scim_token", {
      slug: t.slug,
      token: t.owner.token,
    });
    expect(filtered.body.data.length).toBeGreaterThanOrEqual(5);
  });

  it("Entra ID: creates with the enterprise extension, PATCHes with string booleans and paths, PUTs", async () => {
    const t = await scimTenant();
    const grace = email(t, "grace");
    const created = await scim(t, "POST", "/Users", { body: entraUser(grace) });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const byExternal = await scim(
      t,
      "GET",
      `/Users?filter=${encodeURIComponent(`externalId eq "${created.body.externalId}"`)}`,
    );
    expect(byExternal.body.totalResults).toBe(1);

    const patched = await scim(t, "PATCH", `/Users/${created.body.id}`, {
      body: {
        schemas: [PATCH_OP],
        Operations: [
          { op: "Replace", path: "name.familyName", value: "Murray Hopper" },
          { op: "Add", value: { "name.givenName": "Amazing Grace", displayName: "AG" } },
          { op: "Replace", path: "active", value: "False" },
        ],
      },
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body).toMatchObject({
      active: false,
      displayName: "AG",
      name: { givenName: "Amazing Grace", familyName: "Murray Hopper" },
    });
    expect(await memberRow(t, grace)).toBeNull();

    const removed = await scim(t, "PATCH", `/Users/${created.body.id}`, {
      body: { schemas: [PATCH_OP], Operations: [{ op: "remove", path: "displayName" }] },
    });
    expect(removed.body.displayName).toBeUndefined();

    const put = await scim(t, "PUT", `/Users/${created.body.id}`, { body: entraUser(grace) });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ active: true, name: { givenName: "Grace" } });
    expect(await memberRow(t, grace)).not.toBeNull();

    const renamed = await scim(t, "PUT", `/Users/${created.body.id}`, {
      body: entraUser(email(t, "other")),
    });
    expectScimError(renamed, 400, "mutability");
  });

  it("pages with startIndex and count; refuses filters it does not support", async () => {
    const t = await scimTenant();
    await addOverride(t, { type: "limit", key: "seats", value: 20, hard: true, reason: "paging" });
    for (let i = 0; i < 5; i++) {
      expect((await scim(t, "POST", "/Users", { body: oktaUser(email(t, `u${i}`)) })).status).toBe(
        201,
      );
    }
    const first = await scim(t, "GET", "/Users?startIndex=1&count=2");
    expect(first.body).toMatchObject({ totalResults: 5, startIndex: 1, itemsPerPage: 2 });
    const third = await scim(t, "GET", "/Users?startIndex=5&count=2");
    expect(third.body).toMatchObject({ totalResults: 5, startIndex: 5, itemsPerPage: 1 });
    const seen = new Set<string>();
    for (const start of [1, 3, 5]) {
      const page = await scim(t, "GET", `/Users?startIndex=${start}&count=2`);
      for (const r of page.body.Resources) seen.add(r.id);
    }
    expect(seen.size).toBe(5);
    expect((await scim(t, "GET", "/Users?count=0")).body).toMatchObject({
      totalResults: 5,
      itemsPerPage: 0,
    });
    expectScimError(
      await scim(t, "GET", `/Users?filter=${encodeURIComponent('displayName co "x"')}`),
      400,
      "invalidFilter",
    );
  });

  it("If-Match: a stale ETag is a 412 and changes nothing; the current one applies", async () => {
    const t = await scimTenant();
    const created = await scim(t, "POST", "/Users", { body: oktaUser(email(t, "etag")) });
    const etag = created.headers.get("etag")!;
    const changed = await scim(t, "PATCH", `/Users/${created.body.id}`, {
      headers: { "if-match": etag },
      body: { Operations: [{ op: "replace", path: "displayName", value: "One" }] },
    });
    expect(changed.status).toBe(200);
    expect(changed.headers.get("etag")).not.toBe(etag);
    const stale = await scim(t, "PUT", `/Users/${created.body.id}`, {
      headers: { "if-match": etag },
      body: { ...oktaUser(email(t, "etag")), active: false },
    });
    expectScimError(stale, 412);
    const staleDelete = await scim(t, "DELETE", `/Users/${created.body.id}`, {
      headers: { "if-match": etag },
    });
    expectScimError(staleDelete, 412);
    const now = await scim(t, "GET", `/Users/${created.body.id}`);
    expect(now.body).toMatchObject({ active: true, displayName: "One" });
    // A sync that re-sends the same user changes nothing: same ETag, no audit entry.
    const same = await scim(t, "PATCH", `/Users/${created.body.id}`, {
      body: { Operations: [{ op: "replace", path: "displayName", value: "One" }] },
    });
    expect(same.headers.get("etag")).toBe(changed.headers.get("etag"));
    expect(await auditRows(t, "scim_user.update")).toHaveLength(1);
  });

  it("answers SCIM error bodies for bad input, unknown users and unknown paths", async () => {
    const t = await scimTenant();
    expectScimError(
      await scim(t, "POST", "/Users", { body: { userName: "not-an-email" } }),
      400,
      "invalidValue",
    );
    expectScimError(await scim(t, "GET", "/Users/scu_nope"), 404);
    expectScimError(await scim(t, "GET", "/Nothing"), 404);
    expectScimError(
      await scim(t, "PATCH", "/Users/scu_nope", {
        body: { Operations: [{ op: "replace", path: "active", value: false }] },
      }),
      404,
    );
    const created = await scim(t, "POST", "/Users", { body: oktaUser(email(t, "bad")) });
    expectScimError(
      await scim(t, "PATCH", `/Users/${created.body.id}`, {
        body: { Operations: [{ op: "move" }] },
      }),
      400,
      "invalidSyntax",
    );
  });

  it("concurrent creates of one userName: one 201, the rest 409 uniqueness; one member, one seat", async () => {
    const t = await scimTenant();
    // Six seats: every racer could take one, so only uniqueness decides.
    await addOverride(t, { type: "limit", key: "seats", value: 6, hard: true, reason: "race" });
    const body = oktaUser(email(t, "race"));
    const results = await Promise.all(
      Array.from({ length: 5 }, () => scim(t, "POST", "/Users", { body })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409]);
    for (const r of results.filter((r) => r.status === 409)) expectScimError(r, 409, "uniqueness");
    const n = await tenantD1(t).prepare("SELECT count(*) AS n FROM members").first<{ n: number }>();
    expect(n!.n).toBe(2);
    // The losers' seats went back: the four seats left can all be taken.
    for (let i = 0; i < 4; i++) {
      const res = await scim(t, "POST", "/Users", { body: oktaUser(email(t, `after${i}`)) });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    }
    expectScimError(await scim(t, "POST", "/Users", { body: oktaUser(email(t, "over")) }), 403);
  });

  it("an existing member's email is a 409 uniqueness", async () => {
    const t = await scimTenant();
    expectScimError(
      await scim(t, "POST", "/Users", { body: oktaUser(t.owner.email) }),
      409,
      "uniqueness",
    );
  });
});

describe("seats and deprovisioning", () => {
  it("takes a seat per active user, refuses a full tenant, gives the seat back on deactivation", async () => {
    const t = await scimTenant(); // free plan: 3 seats, the owner holds one.
    const a = await scim(t, "POST", "/Users", { body: oktaUser(email(t, "a")) });
    const b = await scim(t, "POST", "/Users", { body: oktaUser(email(t, "b")) });
    expect([a.status, b.status]).toEqual([201, 201]);
    const full = await scim(t, "POST", "/Users", { body: oktaUser(email(t, "c")) });
    expectScimError(full, 403);
    expect(full.body.detail).toContain("seats");
    // An inactive user takes no seat.
    const c = await scim(t, "POST", "/Users", {
      body: { ...oktaUser(email(t, "c")), active: false },
    });
    expect(c.status).toBe(201);
    expectScimError(
      await scim(t, "PATCH", `/Users/${c.body.id}`, {
        body: { Operations: [{ op: "replace", value: { active: true } }] },
      }),
      403,
    );
    expect((await scim(t, "DELETE", `/Users/${a.body.id}`)).status).toBe(204);
    expectScimError(await scim(t, "GET", `/Users/${a.body.id}`), 404);
    expect(await auditRows(t, "scim_user.delete")).toHaveLength(1);
    const reactivated = await scim(t, "PATCH", `/Users/${c.body.id}`, {
      body: { Operations: [{ op: "replace", value: { active: true } }] },
    });
    expect(reactivated.status, JSON.stringify(reactivated.body)).toBe(200);
    expect(reactivated.body.active).toBe(true);
  });

  it("deactivation revokes the member's sessions and API keys at once", async () => {
    const t = await scimTenant();
    const who = email(t, "leaver");
    const created = await scim(t, "POST", "/Users", { body: oktaUser(who) });
    const member = (await memberRow(t, who))!;
    // An admin (promoted in the app) who signed in and made an API key.
    const promoted = await api("PATCH", `/v1/members/${member.id}`, {
      slug: t.slug,
      token: t.owner.token,
      body: { role: "admin" },
    });
    expect(promoted.status).toBe(200);
    const session = await createSession({
      ctx: { env, tenant: t.tenant, requestId: "test", ip: null },
      input: { userId: member.user_id },
    });
    const key = await api("POST", "/v1/api-keys", {
      slug: t.slug,
      token: session.access_token,
      body: { name: "laptop", permissions: ["members:read"] },
    });
    expect(key.status, JSON.stringify(key.body)).toBe(201);
    for (const token of [session.access_token, key.body.key]) {
      expect((await api("GET", "/v1/members", { slug: t.slug, token })).status).toBe(200);
    }
    const off = await scim(t, "PATCH", `/Users/${created.body.id}`, {
      body: { Operations: [{ op: "replace", value: { active: false } }] },
    });
    expect(off.status).toBe(200);
    for (const token of [session.access_token, key.body.key]) {
      expect((await api("GET", "/v1/members", { slug: t.slug, token })).status).toBe(401);
    }
  });

  it("never deprovisions an owner", async () => {
    const t = await scimTenant();
    const who = email(t, "boss");
    const created = await scim(t, "POST", "/Users", { body: oktaUser(who) });
    const member = (await memberRow(t, who))!;
    await api("PATCH", `/v1/members/${member.id}`, {
      slug: t.slug,
      token: t.owner.token,
      body: { role: "owner" },
    });
    expectScimError(await scim(t, "DELETE", `/Users/${created.body.id}`), 403);
    expect(await memberRow(t, who)).not.toBeNull();
  });
});

describe("SCIM discovery", () => {
  it("serves ServiceProviderConfig, ResourceTypes and Schemas", async () => {
    const t = await scimTenant();
    const spc = await scim(t, "GET", "/ServiceProviderConfig");
    expect(spc.body).toMatchObject({ patch: { supported: true }, etag: { supported: true } });
    const types = await scim(t, "GET", "/ResourceTypes");
    expect(types.body.Resources[0]).toMatchObject({ id: "User", endpoint: "/Users", schema: USER });
    const schemas = await scim(t, "GET", "/Schemas");
    expect(schemas.body.Resources[0].id).toBe(USER);
    expect((await scim(t, "GET", `/Schemas/${USER}`)).status).toBe(200);
  });
});

describe("SCIM Groups", () => {
  const roleOf = async (t: TestTenant, who: string) => (await memberRow(t, who))?.role;

  it("Okta: a group named like a role sets its members' role; leaving it falls back to member", async () => {
    const t = await scimTenant();
    const [ada, bob] = [email(t, "ada"), email(t, "bob")];
    const a = await scim(t, "POST", "/Users", { body: oktaUser(ada) });
    const b = await scim(t, "POST", "/Users", { body: oktaUser(bob) });
    const none = await scim(
      t,
      "GET",
      `/Groups?filter=${encodeURIComponent('displayName eq "admin"')}`,
    );
    expect(none.body.totalResults).toBe(0);
    const group = await scim(t, "POST", "/Groups", {
      body: {
        schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        displayName: "admin",
        members: [{ value: a.body.id, display: ada }],
      },
    });
    expect(group.status, JSON.stringify(group.body)).toBe(201);
    expect(group.body.members).toEqual([expect.objectContaining({ value: a.body.id })]);
    expect(await roleOf(t, ada)).toBe("admin");
    expect(await roleOf(t, bob)).toBe("member");

    // Okta's membership pushes: add by value list, remove by a filtered path.
    const added = await scim(t, "PATCH", `/Groups/${group.body.id}`, {
      body: {
        schemas: [PATCH_OP],
        Operations: [{ op: "add", path: "members", value: [{ value: b.body.id }] }],
      },
    });
    expect(added.status, JSON.stringify(added.body)).toBe(200);
    expect(await roleOf(t, bob)).toBe("admin");
    await scim(t, "PATCH", `/Groups/${group.body.id}`, {
      body: {
        schemas: [PATCH_OP],
        Operations: [{ op: "remove", path: `members[value eq "${a.body.id}"]` }],
      },
    });
    expect(await roleOf(t, ada)).toBe("member");
    // Renaming the group away from a role's name takes the role away.
    const renamed = await scim(t, "PATCH", `/Groups/${group.body.id}`, {
      body: {
        Operations: [{ op: "replace", value: { id: group.body.id, displayName: "Engineering" } }],
      },
    });
    expect(renamed.body.displayName).toBe("Engineering");
    expect(await roleOf(t, bob)).toBe("member");
    expect((await auditRows(t, "member.update")).at(-1)).toMatchObject({
      actor_type: "scim_token",
    });
    expect(await auditRows(t, "scim_group.update")).toHaveLength(3);
  });

  it("Entra: Add/Remove members by value list, highest role wins, an owner group grants nothing, DELETE", async () => {
    const t = await scimTenant();
    const who = email(t, "eve");
    const u = await scim(t, "POST", "/Users", { body: entraUser(who) });
    const viewers = await scim(t, "POST", "/Groups", {
      body: { displayName: "Viewer", externalId: "g1" },
    });
    const billing = await scim(t, "POST", "/Groups", { body: { displayName: "billing" } });
    for (const g of [viewers, billing]) {
      const res = await scim(t, "PATCH", `/Groups/${g.body.id}`, {
        body: {
          schemas: [PATCH_OP],
          Operations: [{ op: "Add", path: "members", value: [{ value: u.body.id }] }],
        },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    }
    expect(await roleOf(t, who)).toBe("billing");
    await scim(t, "PATCH", `/Groups/${billing.body.id}`, {
      body: { Operations: [{ op: "Remove", path: "members", value: [{ value: u.body.id }] }] },
    });
    expect(await roleOf(t, who)).toBe("viewer");
    expect((await scim(t, "DELETE", `/Groups/${viewers.body.id}`)).status).toBe(204);
    expect(await roleOf(t, who)).toBe("member");
    expectScimError(await scim(t, "GET", `/Groups/${viewers.body.id}`), 404);

    // A group named "owner" is just a group: owners are made in the app.
    const owners = await scim(t, "POST", "/Groups", {
      body: { displayName: "owner", members: [{ value: u.body.id }] },
    });
    expect(owners.status).toBe(201);
    expect(await roleOf(t, who)).toBe("member");
    expectScimError(
      await scim(t, "POST", "/Groups", { body: { displayName: "owner" } }),
      409,
      "uniqueness",
    );
    expectScimError(
      await scim(t, "POST", "/Groups", {
        body: { displayName: "x", members: [{ value: "scu_nobody" }] },
      }),
      400,
      "invalidValue",
    );
    const listed = await scim(t, "GET", "/Groups?startIndex=1&count=1");
    expect(listed.body).toMatchObject({ totalResults: 2, itemsPerPage: 1 });
  });

  it("a reactivated user comes back with the role their groups give", async () => {
    const t = await scimTenant();
    const who = email(t, "back");
    const u = await scim(t, "POST", "/Users", { body: oktaUser(who) });
    await scim(t, "POST", "/Groups", {
      body: { displayName: "Admin", members: [{ value: u.body.id }] },
    });
    expect(await roleOf(t, who)).toBe("admin");
    const off = { Operations: [{ op: "replace", value: { active: false } }] };
    const on = { Operations: [{ op: "replace", value: { active: true } }] };
    expect((await scim(t, "PATCH", `/Users/${u.body.id}`, { body: off })).status).toBe(200);
    expect(await memberRow(t, who)).toBeNull();
    expect((await scim(t, "PATCH", `/Users/${u.body.id}`, { body: on })).status).toBe(200);
    expect(await roleOf(t, who)).toBe("admin");
  });
});

/**
 * The shared security suite's checks, for the SCIM surface (it is not in the OpenAPI document, so
 * security.test.ts cannot list it): every SCIM route refuses no token and another tenant's
 * token, answers 404 for another tenant's user or group id, and 403 on a suspended tenant even
 * with that tenant's own valid token.
 */
describe("SCIM routes in the security checks", () => {
  const ROUTES: { method: string; path: string; body?: unknown }[] = [
    { method: "GET", path: "/ServiceProviderConfig" },
    { method: "GET", path: "/ResourceTypes" },
    { method: "GET", path: "/Schemas" },
    { method: "GET", path: "/Users" },
    { method: "POST", path: "/Users", body: oktaUser("new@scim-security.example") },
    { method: "GET", path: "/Users/{user}" },
    { method: "PUT", path: "/Users/{user}", body: oktaUser("put@scim-security.example") },
    {
      method: "PATCH",
      path: "/Users/{user}",
      body: { schemas: [PATCH_OP], Operations: [{ op: "replace", value: { active: false } }] },
    },
    { method: "DELETE", path: "/Users/{user}" },
    { method: "GET", path: "/Groups" },
    { method: "GET", path: "/Groups/{group}" },
    {
      method: "PATCH",
      path: "/Groups/{group}",
      body: { schemas: [PATCH_OP], Operations: [{ op: "replace", value: { displayName: "x" } }] },
    },
    { method: "DELETE", path: "/Groups/{group}" },
  ];

  /** A SCIM tenant with one provisioned user and one group, whose ids fill the paths. */
  async function fixture() {
    const t = await scimTenant();
    const user = await scim(t, "POST", "/Users", { body: oktaUser(email(t, "held")) });
    const group = await scim(t, "POST", "/Groups", {
      body: { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName: "viewers" },
    });
    expect([user.status, group.status]).toEqual([201, 201]);
    return { ...t, ids: { user: user.body.id as string, group: group.body.id as string } };
  }
  const fill = (path: string, ids: { user: string; group: string }) =>
    path.replace("{user}", ids.user).replace("{group}", ids.group);

  // Shared: every call below is refused, so none changes a fixture.
  type Fixture = Awaited<ReturnType<typeof fixture>>;
  let a: Fixture;
  let b: Fixture;
  let suspended: Fixture;
  beforeAll(async () => {
    [a, b, suspended] = [await fixture(), await fixture(), await fixture()];
    await setStatus(suspended, "suspended");
  });

  it.each(ROUTES)("$method $path", async (route) => {
    // Each route from its own client: together the refused tokens would spend one client's
    // SCIM budget (SCIM_AUTH_LIMIT) and later routes would answer 429.
    const headers = { "cf-connecting-ip": `198.51.100.${ROUTES.indexOf(route) + 1}` };
    const call = (t: ScimTenant, token: string | null, ids = a.ids) =>
      scim(t, route.method, fill(route.path, ids), { token, body: route.body, headers });
    expectScimError(await call(a, null), 401);
    expectScimError(await call(a, b.scimToken), 401);
    if (route.path.includes("{")) expectScimError(await call(a, a.scimToken, b.ids), 404);
    expectScimError(await call(suspended, suspended.scimToken, suspended.ids), 403);
  });
});

describe("SCIM bearer tokens", () => {
  it("failed tokens are throttled per client: 30 parallel, exactly the budget answered; a spent client waits", async () => {
    const t = await scimTenant();
    const headers = { "cf-connecting-ip": "203.0.113.61" };
    const guess = (_: unknown, i: number) =>
      scim(t, "GET", "/Users", { token: `scim_guess${i}`, headers });
    const answers = await Promise.all(Array.from({ length: 30 }, guess));
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 401).length).toBe(SCIM_AUTH_LIMIT.max);
    expect(statuses.filter((s) => s === 429).length).toBe(30 - SCIM_AUTH_LIMIT.max);
    const refused = answers.find((r) => r.status === 429)!;
    expectScimError(refused, 429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    // Spent: even this tenant's valid token is refused from that client, before any lookup.
    expectScimError(await scim(t, "GET", "/Users", { headers }), 429);
    // Another client (the IdP) syncs on; valid tokens never count, even many at once.
    const idp = { "cf-connecting-ip": "203.0.113.62" };
    const syncs = await Promise.all(
      Array.from({ length: SCIM_AUTH_LIMIT.max + 5 }, () =>
        scim(t, "GET", "/Users", { headers: idp }),
      ),
    );
    expect(syncs.map((r) => r.status)).toEqual(syncs.map(() => 200));
    expectScimError(await scim(t, "GET", "/Users", { token: null, headers: idp }), 401);
  });
});
