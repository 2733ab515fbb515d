/** SSO connections (issue 12 §1) and OIDC sign-in (§2) against a stand-in provider and resolver. */
import { env } from "cloudflare:workers";
import { newId } from "@tenantry/schema";
import { describe, expect, it, vi } from "vitest";
import { config } from "../src/env";
import { open } from "../src/lib/secret-box";
import { mailPasswordReset } from "../src/services/password-reset";
import { resolveTxt } from "../src/services/sso/dns";
import { SSO_DISCOVER_LIMIT, SSO_FINISH_LIMIT, SSO_START_LIMIT } from "../src/services/throttle";
import {
  addMember,
  api,
  auditRows,
  count,
  createTenant,
  expectProblem,
  lastMail,
  PASSWORD,
  tenantD1,
} from "./helpers";
import {
  createConnection,
  enabledConnection,
  finish,
  grantSso,
  IDP_CLIENT_SECRET,
  IDP_ISSUER,
  publishTxt,
  scriptIdp,
  ssoRedirect,
} from "./sso-helpers";

describe("SSO connections", () => {
  it("production refuses to start without SSO_ENCRYPTION_KEY", () => {
    const production = {
      ...env,
      ENVIRONMENT: "production",
      MAILER: "resend",
      MAIL_FROM: "Tenantry <no-reply@example.com>",
      MAIL_API_TOKEN: "re_test",
    };
    expect(config(production).SSO_ENCRYPTION_KEY).toBe(env.SSO_ENCRYPTION_KEY);
    expect(() => config({ ...production, SSO_ENCRYPTION_KEY: undefined })).toThrow(
      /SSO_ENCRYPTION_KEY is not set/,
    );
  });

  it("an owner adds an OIDC connection: endpoints discovered, secret sealed at rest, audited", async () => {
    const t = await createTenant();
    await grantSso(t);
    const c = await createConnection(t, { default_role: "viewer" });
    expect(c).toMatchObject({
      protocol: "oidc",
      enabled: false,
      issuer: IDP_ISSUER,
      client_id: `client-${t.slug}`,
      client_secret_set: true,
      default_role: "viewer",
      redirect_uri: expect.stringMatching(new RegExp(`//${t.slug}\\..*/sso/callback$`)),
      domains: [],
    });
    expect(JSON.stringify(c)).not.toContain(IDP_CLIENT_SECRET);
    const row = await tenantD1(t)
      .prepare("SELECT * FROM sso_connections WHERE id = ?")
      .bind(c.id)
      .first<Record<string, string>>();
    expect(row).toMatchObject({
      token_endpoint: `${IDP_ISSUER}/token`,
      jwks_uri: `${IDP_ISSUER}/jwks`,
    });
    expect(row!.client_secret_enc).toMatch(/^v1\./);
    expect(row!.client_secret_enc).not.toContain(IDP_CLIENT_SECRET);
    // Sealed to this tenant and connection: it opens only with the same context.
    const key = env.SSO_ENCRYPTION_KEY!;
    expect(await open(key, `${t.tenant.id}:${c.id}`, row!.client_secret_enc!)).toBe(
      IDP_CLIENT_SECRET,
    );
    await expect(open(key, `ten_other:${c.id}`, row!.client_secret_enc!)).rejects.toThrow();
    const [audit] = await auditRows(t, "sso_connection.create");
    expect(JSON.parse(audit!.after)).toEqual({
      name: "Stand-in IdP",
      enabled: false,
      enforced: false,
      default_role: "viewer",
      role_mapping: null,
      issuer: IDP_ISSUER,
      client_id: `client-${t.slug}`,
    });
  });

  it("refuses a plan without the sso feature, and an issuer without a discovery document", async () => {
    const t = await createTenant();
    const body = { name: "x", issuer: IDP_ISSUER, client_id: "c", client_secret: "s" };
    expectProblem(
      await api("POST", "/v1/sso/connections", { slug: t.slug, token: t.owner.token, body }),
      403,
      "feature_not_in_plan",
    );
    await grantSso(t);
    const res = await api("POST", "/v1/sso/connections", {
      slug: t.slug,
      token: t.owner.token,
      body: { ...body, issuer: `${IDP_ISSUER}/nowhere` },
    });
    expectProblem(res, 400);
    expect(res.body.detail).toContain("discovery document could not be read");
  });

  it("a domain counts only once its TXT record holds the token (resolver seam), audited", async () => {
    const t = await createTenant();
    await grantSso(t);
    const c = await createConnection(t);
    const domain = `${t.slug}-verify.example`;
    const path = `/v1/sso/connections/${c.id}/domains`;
    const added = await api("POST", path, { slug: t.slug, token: t.owner.token, body: { domain } });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({
      domain,
      verified: false,
      verification: { type: "TXT", name: `_tenantry-verify.${domain}` },
    });
    const verify = () =>
      api("POST", `${path}/${domain}/verify`, { slug: t.slug, token: t.owner.token });
    expectProblem(await verify(), 409, "domain_not_verified");
    await publishTxt(`_tenantry-verify.${domain}`, ["v=spf1 -all", "tenantry-verify=wrong"]);
    expectProblem(await verify(), 409, "domain_not_verified");
    await publishTxt(`_tenantry-verify.${domain}`, ["v=spf1 -all", added.body.verification.value]);
    const ok = await verify();
    expect(ok.status).toBe(200);
    expect(ok.body.verified).toBe(true);
    expect((await auditRows(t, "sso_domain.verify")).map((r) => JSON.parse(r.after))).toEqual([
      { domain },
    ]);
  });

  it('a resolver that cannot be asked is a 503, never "no record"', async () => {
    // A host that answers 404 stands for an unreachable or failing resolver.
    const down = { ...env, SSO_DNS_RESOLVER: `${IDP_ISSUER}/no-resolver-here` };
    await expect(resolveTxt(down, "_tenantry-verify.example.com")).rejects.toMatchObject({
      status: 503,
      code: "dns_unavailable",
    });
    // NXDOMAIN is an answer: no record.
    expect(await resolveTxt(env, `_tenantry-verify.${crypto.randomUUID()}.example`)).toEqual([]);
  });

  it("two connections claiming one domain at once: one wins, the other is a 409", async () => {
    const t = await createTenant();
    await grantSso(t);
    const [a, b] = [await createConnection(t), await createConnection(t)];
    const domain = `${t.slug}-race.example`;
    const results = await Promise.all(
      [a, b].map((c) =>
        api("POST", `/v1/sso/connections/${c.id}/domains`, {
          slug: t.slug,
          token: t.owner.token,
          body: { domain },
        }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
    expect(await count(tenantD1(t), "sso_domains")).toBe(1);
  });
});

describe("OIDC sign-in", () => {
  it("home-realm discovery offers SSO only for a verified domain of an enabled connection", async () => {
    const t = await createTenant();
    const { connection, domain } = await enabledConnection(t);
    const discover = async (email: string) =>
      (await api("POST", "/v1/auth/sso/discover", { slug: t.slug, body: { email } })).body.sso;
    expect(await discover(`ann@${domain}`)).toBe(true);
    expect(await discover(`ann@${domain.toUpperCase()}`)).toBe(true);
    expect(await discover("ann@elsewhere.example")).toBe(false);
    await api("PATCH", `/v1/sso/connections/${connection.id}`, {
      slug: t.slug,
      token: t.owner.token,
      body: { enabled: false },
    });
    expect(await discover(`ann@${domain}`)).toBe(false);
    expectProblem(
      await api("POST", "/v1/auth/sso/start", { slug: t.slug, body: { email: `ann@${domain}` } }),
      400,
    );
  });

  it("starting sign-ins is throttled per client: 40 parallel starts, exactly the budget admitted", async () => {
    const t = await createTenant();
    const { domain } = await enabledConnection(t);
    const start = () =>
      api("POST", "/v1/auth/sso/start", {
        slug: t.slug,
        body: { email: `ann@${domain}` },
        headers: { "cf-connecting-ip": "203.0.113.9" },
      });
    const statuses = (await Promise.all(Array.from({ length: 40 }, start))).map((r) => r.status);
    expect(statuses.filter((s) => s === 200).length).toBe(SSO_START_LIMIT.max);
    expect(statuses.filter((s) => s === 429).length).toBe(40 - SSO_START_LIMIT.max);
  });

  it("callbacks are throttled per client: 40 parallel bad ones, exactly the budget refused and audited", async () => {
    const t = await createTenant();
    await enabledConnection(t);
    const callback = () =>
      api("POST", "/v1/auth/sso/callback", {
        slug: t.slug,
        body: { state: "forged-state", code: "forged-code" },
        headers: { "cf-connecting-ip": "203.0.113.11" },
      });
    const statuses = (await Promise.all(Array.from({ length: 40 }, callback))).map((r) => r.status);
    expect(statuses.filter((s) => s === 401).length).toBe(SSO_FINISH_LIMIT.max);
    expect(statuses.filter((s) => s === 429).length).toBe(40 - SSO_FINISH_LIMIT.max);
    expect(await auditRows(t, "sso.refuse")).toHaveLength(SSO_FINISH_LIMIT.max);
  });

  it("a refusal's reason is also in the operators' logs, with the tenant and request id", async () => {
    const t = await createTenant();
    await enabledConnection(t);
    const lines: string[] = [];
    const warn = vi.spyOn(console, "warn").mockImplementation((line: string) => lines.push(line));
    try {
      const res = await api("POST", "/v1/auth/sso/callback", {
        slug: t.slug,
        body: { state: "forged-state", code: "forged-code" },
      });
      expectProblem(res, 401, "unauthorized");
      const logged = lines.map((l) => JSON.parse(l)).find((l) => l.msg === "sso sign-in refused");
      expect(logged).toMatchObject({
        level: "warn",
        tenant_id: t.tenant.id,
        reason: "invalid_or_used_state",
        request_id: res.headers.get("x-request-id"),
      });
    } finally {
      warn.mockRestore();
    }
  });

  it("discovery has its own budget per client: 70 parallel lookups, exactly the budget admitted; starts unaffected", async () => {
    const t = await createTenant();
    const { domain } = await enabledConnection(t);
    const headers = { "cf-connecting-ip": "203.0.113.10" };
    const body = { email: `ann@${domain}` };
    const discover = () => api("POST", "/v1/auth/sso/discover", { slug: t.slug, body, headers });
    const answers = await Promise.all(Array.from({ length: 70 }, discover));
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 200).length).toBe(SSO_DISCOVER_LIMIT.max);
    expect(statuses.filter((s) => s === 429).length).toBe(70 - SSO_DISCOVER_LIMIT.max);
    const refused = answers.find((r) => r.status === 429)!;
    expectProblem(refused, 429, "too_many_requests");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    // Lookups spent nothing of the same client's sign-in starts.
    const start = await api("POST", "/v1/auth/sso/start", { slug: t.slug, body, headers });
    expect(start.status).toBe(200);
  });

  it("a start sweeps sign-in rows past their TTL (expired, or used and as old); live rows stay", async () => {
    const t = await createTenant();
    const { connection, domain } = await enabledConnection(t);
    const db = tenantD1(t);
    const now = Date.now();
    const row = (state: string, expiresAt: number, usedAt: number | null) =>
      db
        .prepare(
          `INSERT INTO sso_logins (state_hash, tenant_id, connection_id, purpose, nonce, code_verifier,
             expires_at, used_at, created_at) VALUES (?, ?, ?, 'sign_in', 'n', 'v', ?, ?, ?)`,
        )
        .bind(state, t.tenant.id, connection.id, expiresAt, usedAt, expiresAt - 600_000);
    await db.batch([
      row("expired", now - 1_000, null),
      row("used-long-ago", now - 60_000, now - 500_000),
      row("live", now + 300_000, null),
      row("used-recently", now + 300_000, now - 1_000),
    ]);
    const started = await api("POST", "/v1/auth/sso/start", {
      slug: t.slug,
      body: { email: `ann@${domain}` },
    });
    expect(started.status).toBe(200);
    const left = await db
      .prepare("SELECT state_hash FROM sso_logins")
      .all<{ state_hash: string }>();
    const states = left.results.map((r) => r.state_hash);
    expect(states).toEqual(expect.arrayContaining(["live", "used-recently"]));
    expect(states).not.toContain("expired");
    expect(states).not.toContain("used-long-ago");
    // The start's own row was written in the same batch as the sweep.
    expect(states).toHaveLength(3);
  });

  it("the first sign-in creates the member just in time; the session is an ordinary one", async () => {
    const t = await createTenant();
    const { connection, domain } = await enabledConnection(t);
    const email = `jit@${domain}`;
    const flow = await ssoRedirect(t, email);
    const q = flow.authorization.searchParams;
    expect(q.get("code_challenge_method")).toBe("S256");
    expect(q.get("code_challenge")).toMatch(/^[\w-]{43}$/);
    expect(q.get("state")).toBeTruthy();
    expect(q.get("nonce")).toBeTruthy();
    expect(q.get("redirect_uri")).toBe(connection.redirect_uri);
    const signedIn = await finish(t, flow);
    expect(signedIn.status, JSON.stringify(signedIn.body)).toBe(200);
    const me = await api("GET", "/v1/me", { slug: t.slug, token: signedIn.body.access_token });
    expect(me.body).toMatchObject({ user: { email }, role: "member" });
    // The second sign-in finds the member.
    expect((await finish(t, await ssoRedirect(t, email))).status).toBe(200);
    const joins = (await auditRows(t, "member.join")).filter((r) => r.after.includes(email));
    expect(joins).toHaveLength(1);
    const signIns = await auditRows(t, "sso.sign_in");
    expect(signIns.map((r) => JSON.parse(r.after).just_in_time)).toEqual([true, false]);
    expect(signIns[0]).toMatchObject({ target_id: connection.id, actor_type: "user" });
  });

  it("parallel first sign-ins of one person make one member", async () => {
    const t = await createTenant();
    const { domain } = await enabledConnection(t);
    const email = `twice@${domain}`;
    const flows = await Promise.all([ssoRedirect(t, email), ssoRedirect(t, email)]);
    const results = await Promise.all(flows.map((f) => finish(t, f)));
    expect(results.map((r) => r.status)).toEqual([200, 200]);
    const n = await tenantD1(t)
      .prepare("SELECT count(*) AS n FROM members WHERE email = ?")
      .bind(email)
      .first<{ n: number }>();
    expect(n!.n).toBe(1);
  });

  it("a state is accepted once: a replayed callback is refused and audited", async () => {
    const t = await createTenant();
    const { domain } = await enabledConnection(t);
    const flow = await ssoRedirect(t, `replay@${domain}`);
    expect((await finish(t, flow)).status).toBe(200);
    expectProblem(await finish(t, flow), 401, "unauthorized");
    expectProblem(await finish(t, { state: "made-up", code: flow.code }), 401, "unauthorized");
    const reasons = (await auditRows(t, "sso.refuse")).map((r) => JSON.parse(r.after).reason);
    expect(reasons).toEqual(["invalid_or_used_state", "invalid_or_used_state"]);
  });

  it("a code redeemed without this sign-in's PKCE verifier is refused", async () => {
    const t = await createTenant();
    const { domain } = await enabledConnection(t);
    const flow = await ssoRedirect(t, `pkce@${domain}`);
    await tenantD1(t).prepare("UPDATE sso_logins SET code_verifier = 'not-the-verifier'").run();
    expectProblem(await finish(t, flow), 401, "unauthorized");
    const [refusal] = await auditRows(t, "sso.refuse");
    expect(JSON.parse(refusal!.after).reason).toBe("token_exchange_failed_400");
  });

  const now = () => Math.floor(Date.now() / 1000);
  it.each([
    ["another issuer", { claims: { iss: "https://evil.example" } }, "id_token_iss_mismatch"],
    ["another audience", { claims: { aud: "someone-else" } }, "id_token_aud_mismatch"],
    ["another nonce", { claims: { nonce: "stale" } }, "id_token_nonce_mismatch"],
    ["expired", { claims: { iat: now() - 7200, exp: now() - 3600 } }, "id_token_expired"],
    ["alg none", { alg: "none" }, "id_token_algorithm_not_allowed"],
    ["a key the provider never published", { key: "other" }, "id_token_unknown_key"],
    ["an unverified email", { claims: { email_verified: false } }, "email_not_verified"],
  ])(
    "an ID token with %s is refused, with the reason audited and no session",
    async (_, tweaks, reason) => {
      const t = await createTenant();
      const { domain } = await enabledConnection(t);
      const email = `bent@${domain}`;
      await scriptIdp(email, tweaks);
      const sessionsBefore = await count(tenantD1(t), "sessions");
      expectProblem(await finish(t, await ssoRedirect(t, email)), 401, "unauthorized");
      expect(await count(tenantD1(t), "sessions")).toBe(sessionsBefore);
      expect(await count(tenantD1(t), "members")).toBe(1);
      const [refusal] = await auditRows(t, "sso.refuse");
      expect(JSON.parse(refusal!.after)).toEqual({ reason });
    },
  );

  it("an ID token for an email outside the connection's verified domains is refused", async () => {
    const t = await createTenant();
    const { domain } = await enabledConnection(t);
    const email = `ann@${domain}`;
    await scriptIdp(email, { claims: { email: "ann@unverified.example" } });
    expectProblem(await finish(t, await ssoRedirect(t, email)), 401, "unauthorized");
    const [refusal] = await auditRows(t, "sso.refuse");
    expect(JSON.parse(refusal!.after).reason).toBe("email_domain_not_served");
  });
});

describe("enforced SSO", () => {
  it("refuses passwords for the verified domain, but owners keep theirs (break-glass)", async () => {
    const t = await createTenant();
    const { connection, domain } = await enabledConnection(t);
    const enforce = await api("PATCH", `/v1/sso/connections/${connection.id}`, {
      slug: t.slug,
      token: t.owner.token,
      body: { enforced: true },
    });
    expect(enforce.body.enforced).toBe(true);
    const bob = await addMember(t, "admin", { userId: newId("user"), email: `bob@${domain}` });
    const boss = await addMember(t, "owner", { userId: newId("user"), email: `boss@${domain}` });
    const login = (email: string) =>
      api("POST", "/v1/auth/login", { slug: t.slug, body: { email, password: PASSWORD } });
    const refused = await login(bob.email);
    expectProblem(refused, 403, "sso_required");
    expect((await login(boss.email)).status).toBe(200);
    const [refusal] = await auditRows(t, "sso.refuse");
    expect(refusal).toMatchObject({ target_id: bob.userId });
    expect(JSON.parse(refusal!.after)).toEqual({ reason: "password_sign_in_sso_enforced" });

    // No reset mail for bob; the owner still gets one.
    for (const m of [bob, boss]) {
      await mailPasswordReset(env, {
        tenant_id: t.tenant.id,
        email: m.email,
        request_id: newId("request"),
      });
    }
    expect(await lastMail(boss.email, "Reset")).not.toBeNull();
    const mails = await env.CONTROL_DB.prepare(
      'SELECT count(*) AS n FROM mail_outbox WHERE "to" = ?',
    )
      .bind(bob.email)
      .first<{ n: number }>();
    expect(mails!.n).toBe(0);

    // Switched off again, passwords work.
    await api("PATCH", `/v1/sso/connections/${connection.id}`, {
      slug: t.slug,
      token: t.owner.token,
      body: { enforced: false },
    });
    expect((await login(bob.email)).status).toBe(200);
  });
});

describe("test connection", () => {
  it("shows the claims of a switched-off connection and signs nobody in", async () => {
    const t = await createTenant();
    await grantSso(t);
    const c = await createConnection(t);
    const started = await api("POST", `/v1/sso/connections/${c.id}/test`, {
      slug: t.slug,
      token: t.owner.token,
    });
    expect(started.status).toBe(200);
    const url = new URL(started.body.authorization_url);
    url.searchParams.set("login_hint", "tester@elsewhere.example");
    const res = await fetch(url, { redirect: "manual" });
    await res.body?.cancel();
    const back = new URL(res.headers.get("location") ?? "");
    const sessionsBefore = await count(tenantD1(t), "sessions");
    const result = await finish(t, {
      state: back.searchParams.get("state") ?? "",
      code: back.searchParams.get("code") ?? "",
    });
    expect(result.status).toBe(200);
    expect(result.body.test).toMatchObject({
      claims: { email: "tester@elsewhere.example", iss: IDP_ISSUER },
      domain_served: false,
    });
    expect(result.body.access_token).toBeUndefined();
    expect(await count(tenantD1(t), "sessions")).toBe(sessionsBefore);
    expect(await auditRows(t, "sso_connection.test")).toHaveLength(1);
  });
});
