import { totpCode } from "@tenantry/core/totp";
import { describe, expect, it } from "vitest";
import { MFA_LIMIT, RECOVERY_CODE_COUNT } from "../src/services/mfa";
import {
  addMember,
  api,
  auditRows,
  createTenant,
  expectProblem,
  markEmailVerified,
  PASSWORD,
  type TestTenant,
  tenantD1,
} from "./helpers";
import { enrolOwner, expireStepUp, unusedCode } from "./mfa-helpers";

function signIn(t: TestTenant, email = t.owner.email) {
  return api("POST", "/v1/auth/login", { slug: t.slug, body: { email, password: PASSWORD } });
}

function secondStep(t: TestTenant, challenge: string, code: string) {
  return api("POST", "/v1/auth/login/mfa", { slug: t.slug, body: { challenge, code } });
}

describe("TOTP enrolment", () => {
  it("starts with a secret and URI, confirms with a code, and shows hashed recovery codes once", async () => {
    const t = await createTenant();
    const start = await api("POST", "/v1/me/mfa/enrol", { slug: t.slug, token: t.owner.token });
    expect(start.status).toBe(201);
    expect(start.body.secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(start.body.otpauth_uri).toMatch(/^otpauth:\/\/totp\//);
    expect(start.body.otpauth_uri).toContain(`secret=${start.body.secret}`);

    const wrong = await api("POST", "/v1/me/mfa/confirm", {
      slug: t.slug,
      token: t.owner.token,
      body: { code: totpCode(start.body.secret) === "123456" ? "654321" : "123456" },
    });
    expectProblem(wrong, 403, "invalid_mfa_code");

    const confirm = await api("POST", "/v1/me/mfa/confirm", {
      slug: t.slug,
      token: t.owner.token,
      body: { code: totpCode(start.body.secret) },
    });
    expect(confirm.status).toBe(200);
    const codes: string[] = confirm.body.recovery_codes;
    expect(codes).toHaveLength(RECOVERY_CODE_COUNT);
    expect(new Set(codes).size).toBe(RECOVERY_CODE_COUNT);
    const stored = await tenantD1(t).prepare("SELECT code_hash FROM mfa_recovery_codes").all();
    expect(stored.results).toHaveLength(RECOVERY_CODE_COUNT);
    for (const row of stored.results) expect(codes).not.toContain(row.code_hash);

    const status = await api("GET", "/v1/me/mfa", { slug: t.slug, token: t.owner.token });
    expect(status.body).toMatchObject({ enabled: true, recovery_codes_left: RECOVERY_CODE_COUNT });
    const [audit] = await auditRows(t, "mfa.enable");
    expect(audit).toMatchObject({ actor_id: t.owner.id });

    // A stolen session cannot swap the factor: enrolment again is refused while MFA is on.
    expectProblem(
      await api("POST", "/v1/me/mfa/enrol", { slug: t.slug, token: t.owner.token }),
      409,
      "mfa_enabled",
    );
  });

  it("is refused to API keys", async () => {
    const t = await createTenant();
    await markEmailVerified(t.owner.id);
    const created = await api("POST", "/v1/api-keys", {
      slug: t.slug,
      token: t.owner.token,
      body: { name: "k", permissions: ["members:read"] },
    });
    expectProblem(
      await api("POST", "/v1/me/mfa/enrol", { slug: t.slug, token: created.body.key }),
      403,
      "forbidden",
    );
  });

  it("is disabled with a recovery code, after which sign-in needs no code", async () => {
    const t = await createTenant();
    const { recoveryCodes } = await enrolOwner(t);
    const [code] = recoveryCodes;
    expectProblem(
      await api("POST", "/v1/me/mfa/disable", {
        slug: t.slug,
        token: t.owner.token,
        body: { code: "aaaaa-aaaaa" },
      }),
      403,
      "invalid_mfa_code",
    );
    const off = await api("POST", "/v1/me/mfa/disable", {
      slug: t.slug,
      token: t.owner.token,
      body: { code },
    });
    expect(off.status, JSON.stringify(off.body)).toBe(204);
    const [audit] = await auditRows(t, "mfa.disable");
    expect(JSON.parse(audit?.after)).toEqual({ proved_with: "recovery_code" });
    const status = await api("GET", "/v1/me/mfa", { slug: t.slug, token: t.owner.token });
    expect(status.body).toMatchObject({ enabled: false, recovery_codes_left: 0 });
    const login = await signIn(t);
    expect(login.body.access_token).toEqual(expect.any(String));
  });
});

describe("sign-in with MFA", () => {
  it("answers a challenge, then tokens for the challenge and a code; each code works once", async () => {
    const t = await createTenant();
    const { secret } = await enrolOwner(t);
    const first = await signIn(t);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ mfa_required: true, challenge: expect.any(String) });
    expect(first.body.access_token).toBeUndefined();

    // The code that confirmed enrolment was accepted already.
    expectProblem(await secondStep(t, first.body.challenge, totpCode(secret)), 401);
    const done = await secondStep(t, first.body.challenge, await unusedCode(t, secret));
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    const me = await api("GET", "/v1/me", { slug: t.slug, token: done.body.access_token });
    expect(me.body.user.id).toBe(t.owner.id);
    const sessions = await auditRows(t, "session.create");
    expect(JSON.parse(sessions.at(-1)?.after)).toEqual({ mfa: "totp" });
  });

  it("refuses a challenge on another tenant's host", async () => {
    const [a, b] = [await createTenant(), await createTenant()];
    const { secret } = await enrolOwner(a);
    const { body } = await signIn(a);
    expectProblem(await secondStep(b, body.challenge, await unusedCode(a, secret)), 401);
  });

  it("accepts one recovery code once when it is sent in parallel", async () => {
    const t = await createTenant();
    const { recoveryCodes } = await enrolOwner(t);
    const { body } = await signIn(t);
    const results = await Promise.all(
      Array.from({ length: 5 }, () => secondStep(t, body.challenge, recoveryCodes[0]!)),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    for (const r of results.filter((r) => r.status !== 200)) expectProblem(r, 401);
    const status = await api("GET", "/v1/me/mfa", { slug: t.slug, token: t.owner.token });
    expect(status.body.recovery_codes_left).toBe(RECOVERY_CODE_COUNT - 1);
  });

  it("throttles parallel wrong codes: the budget is taken before any code is checked", async () => {
    const t = await createTenant();
    const { secret } = await enrolOwner(t);
    const { body } = await signIn(t);
    const wrong = totpCode(secret, Date.now() - 5 * 60_000);
    const results = await Promise.all(
      Array.from({ length: MFA_LIMIT.max + 5 }, () => secondStep(t, body.challenge, wrong)),
    );
    const refused = results.filter((r) => r.status === 429);
    expect(results.filter((r) => r.status === 401)).toHaveLength(MFA_LIMIT.max);
    expect(refused).toHaveLength(5);
    expectProblem(refused[0]!, 429);
    expect(Number(refused[0]!.headers.get("retry-after"))).toBeGreaterThan(0);
    // Even the right code waits for the window now.
    expectProblem(await secondStep(t, body.challenge, await unusedCode(t, secret)), 429);
  });
});

describe("regenerating recovery codes", () => {
  const regenerate = (t: TestTenant, body: { code?: string } = {}) =>
    api("POST", "/v1/me/mfa/recovery-codes", { slug: t.slug, token: t.owner.token, body });

  it("replaces the set, shown once, with a current code; old codes are refused after", async () => {
    const t = await createTenant();
    expectProblem(await regenerate(t, { code: "000000" }), 409, "mfa_not_enabled");
    const { secret, recoveryCodes: old } = await enrolOwner(t);
    expectProblem(
      await regenerate(t, { code: "000000" === totpCode(secret) ? "111111" : "000000" }),
      403,
      "invalid_mfa_code",
    );
    const res = await regenerate(t, { code: await unusedCode(t, secret) });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const fresh: string[] = res.body.recovery_codes;
    expect(fresh).toHaveLength(RECOVERY_CODE_COUNT);
    expect(fresh.filter((c) => old.includes(c))).toEqual([]);
    const stored = await tenantD1(t)
      .prepare("SELECT code_hash FROM mfa_recovery_codes")
      .all<{ code_hash: string }>();
    expect(stored.results).toHaveLength(RECOVERY_CODE_COUNT);
    expect(JSON.stringify(stored.results)).not.toContain(fresh[0]);
    const [audit] = await auditRows(t, "mfa.regenerate_recovery_codes");
    expect(JSON.parse(audit!.after)).toEqual({
      proved_with: "totp",
      recovery_codes: RECOVERY_CODE_COUNT,
    });
    // An old code no longer proves anything; a new one does, once.
    const verify = (code: string) =>
      api("POST", "/v1/me/mfa/verify", { slug: t.slug, token: t.owner.token, body: { code } });
    expectProblem(await verify(old[0]!), 403, "invalid_mfa_code");
    expect((await verify(fresh[0]!)).status).toBe(200);
    expectProblem(await verify(fresh[0]!), 403, "invalid_mfa_code");
  });

  it("without a code needs a recent step-up", async () => {
    const t = await createTenant();
    const { secret } = await enrolOwner(t);
    await expireStepUp(t);
    expectProblem(await regenerate(t), 403, "mfa_step_up_required");
    await api("POST", "/v1/me/mfa/verify", {
      slug: t.slug,
      token: t.owner.token,
      body: { code: await unusedCode(t, secret) },
    });
    const res = await regenerate(t);
    expect(res.status).toBe(200);
    const [audit] = await auditRows(t, "mfa.regenerate_recovery_codes");
    expect(JSON.parse(audit!.after).proved_with).toBe("step_up");
  });

  it("parallel regenerations leave exactly one set", async () => {
    const t = await createTenant();
    await enrolOwner(t);
    const results = await Promise.all([regenerate(t), regenerate(t), regenerate(t)]);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    const n = await tenantD1(t)
      .prepare("SELECT count(*) AS n FROM mfa_recovery_codes")
      .first<{ n: number }>();
    expect(n!.n).toBe(RECOVERY_CODE_COUNT);
  });
});

describe("step-up on sensitive actions", () => {
  it("refuses API key creation without a recent code, and allows it after verifying", async () => {
    const t = await createTenant();
    await markEmailVerified(t.owner.id);
    const { secret } = await enrolOwner(t);
    await expireStepUp(t);
    const create = () =>
      api("POST", "/v1/api-keys", {
        slug: t.slug,
        token: t.owner.token,
        body: { name: "k", permissions: ["members:read"] },
      });
    expectProblem(await create(), 403, "mfa_step_up_required");
    expectProblem(
      await api("POST", "/v1/me/mfa/verify", {
        slug: t.slug,
        token: t.owner.token,
        body: { code: "000000" === totpCode(secret) ? "111111" : "000000" },
      }),
      403,
      "invalid_mfa_code",
    );
    const verify = await api("POST", "/v1/me/mfa/verify", {
      slug: t.slug,
      token: t.owner.token,
      body: { code: await unusedCode(t, secret) },
    });
    expect(verify.status).toBe(200);
    expect(Date.parse(verify.body.verified_until)).toBeGreaterThan(Date.now());
    expect(await auditRows(t, "session.verify_mfa")).toHaveLength(1);
    expect((await create()).status).toBe(201);
  });

  it("guards changes of who the owners are, and leaves members without MFA alone", async () => {
    const t = await createTenant();
    const { secret } = await enrolOwner(t);
    await expireStepUp(t);
    const admin = await addMember(t, "admin");
    const promote = () =>
      api("PATCH", `/v1/members/${admin.memberId}`, {
        slug: t.slug,
        token: t.owner.token,
        body: { role: "owner" },
      });
    expectProblem(await promote(), 403, "mfa_step_up_required");
    // A change that does not touch ownership needs no step-up.
    const viewer = await addMember(t, "viewer");
    const demote = await api("PATCH", `/v1/members/${viewer.memberId}`, {
      slug: t.slug,
      token: t.owner.token,
      body: { role: "member" },
    });
    expect(demote.status).toBe(200);
    await api("POST", "/v1/me/mfa/verify", {
      slug: t.slug,
      token: t.owner.token,
      body: { code: await unusedCode(t, secret) },
    });
    expect((await promote()).status).toBe(200);

    // The new owner has no MFA: nothing to step up.
    const back = await api("PATCH", `/v1/members/${admin.memberId}`, {
      slug: t.slug,
      token: admin.tokens.access_token,
      body: { role: "admin" },
    });
    expect(back.status, JSON.stringify(back.body)).toBe(200);
  });
});

describe("require MFA for every member", () => {
  it("is an owner's setting, and only for an owner who has MFA", async () => {
    const t = await createTenant();
    const policy = (token: string, require_mfa: boolean) =>
      api("PATCH", "/v1/settings/security", { slug: t.slug, token, body: { require_mfa } });
    expectProblem(await policy(t.owner.token, true), 409, "mfa_not_enrolled");
    const admin = await addMember(t, "admin");
    expectProblem(await policy(admin.tokens.access_token, false), 403, "owner_only");
    await enrolOwner(t);
    const on = await policy(t.owner.token, true);
    expect(on.status, JSON.stringify(on.body)).toBe(200);
    const [audit] = await auditRows(t, "security.update");
    expect(JSON.parse(audit?.before)).toEqual({ require_mfa: false });
    expect(JSON.parse(audit?.after)).toEqual({ require_mfa: true });
    const read = await api("GET", "/v1/settings/security", { slug: t.slug, token: t.owner.token });
    expect(read.body).toEqual({ require_mfa: true });
  });

  it("holds members without MFA to enrolment until they enrol", async () => {
    const t = await createTenant();
    await markEmailVerified(t.owner.id);
    const member = await addMember(t, "member");
    const key = await api("POST", "/v1/api-keys", {
      slug: t.slug,
      token: t.owner.token,
      body: { name: "k", permissions: ["members:read"] },
    });
    await enrolOwner(t);
    await api("PATCH", "/v1/settings/security", {
      slug: t.slug,
      token: t.owner.token,
      body: { require_mfa: true },
    });
    const token = member.tokens.access_token;
    expectProblem(
      await api("GET", "/v1/members", { slug: t.slug, token }),
      403,
      "mfa_enrolment_required",
    );
    const me = await api("GET", "/v1/me", { slug: t.slug, token });
    expect(me.body.mfa_enrolment_required).toBe(true);
    // The owner (enrolled) and API keys (not sign-ins) carry on.
    expect((await api("GET", "/v1/members", { slug: t.slug, token: t.owner.token })).status).toBe(
      200,
    );
    expect((await api("GET", "/v1/members", { slug: t.slug, token: key.body.key })).status).toBe(
      200,
    );

    const start = await api("POST", "/v1/me/mfa/enrol", { slug: t.slug, token });
    const confirm = await api("POST", "/v1/me/mfa/confirm", {
      slug: t.slug,
      token,
      body: { code: totpCode(start.body.secret) },
    });
    expect(confirm.status).toBe(200);
    expect((await api("GET", "/v1/members", { slug: t.slug, token })).status).toBe(200);
    const after = await api("GET", "/v1/me", { slug: t.slug, token });
    expect(after.body.mfa_enrolment_required).toBe(false);
  });
});
