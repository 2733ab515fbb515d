/**
 * Requesting a password reset: throttled per address and per client, the same answer and the same
 * work for members and strangers (the member lookup happens in the MAIL queue's consumer), and
 * the mail reaches members only.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { PASSWORD_RESET_LIMITS } from "../src/services/password-reset";
import { LINK_TOKEN_LIMIT } from "../src/services/throttle";
import { addMember, api, createTenant, expectProblem, lastMail } from "./helpers";

/** Each test its own client address, so the per-client budget is the test's alone. */
let clients = 0;
const client = () => `203.0.113.${++clients}`;

const reset = (slug: string, email: string, ip: string) =>
  api("POST", "/v1/auth/password-reset", {
    slug,
    body: { email },
    headers: { "cf-connecting-ip": ip },
  });

describe("POST /v1/auth/password-reset", () => {
  it("answers members, other tenants' members and strangers alike; only the member gets mail", async () => {
    const t = await createTenant();
    const other = await createTenant();
    const member = await addMember(t, "member");
    const ip = client();
    const answers = [];
    for (const email of ["nobody@example.com", other.owner.email, member.email]) {
      const res = await reset(t.slug, email, ip);
      answers.push({
        status: res.status,
        body: res.body,
        headers: [...res.headers.keys()].filter((h) => h !== "x-request-id").sort(),
      });
      if (email === member.email) {
        // The mail comes from the queue, with an id derived from this request's id.
        const mail = await lastMail(member.email, "Reset");
        expect(mail!.id).toBe(res.headers.get("x-request-id")!.replace(/^req_/, "msg_"));
        expect(mail!.tenant_id).toBe(t.tenant.id);
        expect(mail!.text).toContain(`http://${t.slug}.localhost:8787/reset-password?token=`);
      }
    }
    expect(answers[0]).toEqual({ status: 202, body: null, headers: expect.any(Array) });
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);
    // The member's mail went through the queue after both strangers' requests were handled.
    const strangers = await env.CONTROL_DB.prepare(
      `SELECT count(*) AS n FROM mail_outbox WHERE "to" IN (?, ?) AND subject LIKE '%Reset%'`,
    )
      .bind("nobody@example.com", other.owner.email)
      .first<{ n: number }>();
    expect(strangers!.n).toBe(0);
  });

  it("does not look the address up while answering: a tenant database that is down still gets 202", async () => {
    const t = await createTenant();
    const member = await addMember(t, "member");
    await env.CONTROL_DB.prepare(
      "UPDATE tenants SET database_binding = 'TENANT_DB_9999' WHERE id = ?",
    )
      .bind(t.tenant.id)
      .run();
    const res = await reset(t.slug, member.email, client());
    await env.CONTROL_DB.prepare("UPDATE tenants SET database_binding = ? WHERE id = ?")
      .bind(t.tenant.databaseBinding, t.tenant.id)
      .run();
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    // The consumer looks up the member (retrying if it ran while the database was away).
    expect((await lastMail(member.email, "Reset"))!.tenant_id).toBe(t.tenant.id);
  });

  it("refuses the sixth request for one address within the hour (429, Retry-After); other addresses go on", async () => {
    const t = await createTenant();
    const ip = client();
    expect(PASSWORD_RESET_LIMITS.address).toEqual({ max: 5, windowMs: 3_600_000 });
    for (let i = 0; i < PASSWORD_RESET_LIMITS.address.max; i++) {
      expect((await reset(t.slug, t.owner.email, ip)).status).toBe(202);
    }
    const refused = await reset(t.slug, t.owner.email, ip);
    expectProblem(refused, 429, "too_many_requests");
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(3500);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    // Upper case is the same address.
    expectProblem(await reset(t.slug, t.owner.email.toUpperCase(), ip), 429);
    expect((await reset(t.slug, "someone.else@example.com", ip)).status).toBe(202);
    // The same address on another tenant has a budget of its own.
    const other = await createTenant();
    expect((await reset(other.slug, t.owner.email, ip)).status).toBe(202);
  });

  it("refuses a client's requests beyond 20 within the hour, whatever the addresses", async () => {
    const t = await createTenant();
    const ip = client();
    const statuses = [];
    for (let i = 0; i <= PASSWORD_RESET_LIMITS.client.max; i++) {
      statuses.push((await reset(t.slug, `person-${i}@example.com`, ip)).status);
    }
    expect(statuses.slice(0, PASSWORD_RESET_LIMITS.client.max)).toEqual(
      Array(PASSWORD_RESET_LIMITS.client.max).fill(202),
    );
    expect(statuses.at(-1)).toBe(429);
    expect((await reset(t.slug, "person-0@example.com", client())).status).toBe(202);
  });

  it("parallel requests cannot exceed the address budget", async () => {
    const t = await createTenant();
    const member = await addMember(t, "member");
    const ip = client();
    const results = await Promise.all(
      Array.from({ length: 15 }, () => reset(t.slug, member.email, ip)),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 202).length).toBe(PASSWORD_RESET_LIMITS.address.max);
    expect(statuses.filter((s) => s === 429).length).toBe(15 - PASSWORD_RESET_LIMITS.address.max);
    // One mail per accepted request, and no more.
    const deadline = Date.now() + 10_000;
    let mails = 0;
    while (Date.now() < deadline) {
      mails = (await env.CONTROL_DB.prepare('SELECT count(*) AS n FROM mail_outbox WHERE "to" = ?')
        .bind(member.email)
        .first<{ n: number }>())!.n;
      if (mails >= PASSWORD_RESET_LIMITS.address.max) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(mails).toBe(PASSWORD_RESET_LIMITS.address.max);
  });
});

describe.each([
  { path: "/v1/auth/password-reset/confirm", body: { password: "a new long password" } },
  { path: "/v1/auth/verify-email", body: {} },
])("POST $path with links that do not exist", ({ path, body }) => {
  it("is throttled per client: 40 parallel guesses, exactly the budget answered", async () => {
    const t = await createTenant();
    const ip = client();
    const guess = (_: unknown, i: number) =>
      api("POST", path, {
        slug: t.slug,
        body: { ...body, token: `guess-${i}` },
        headers: { "cf-connecting-ip": ip },
      });
    const answers = await Promise.all(Array.from({ length: 40 }, guess));
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 400).length).toBe(LINK_TOKEN_LIMIT.max);
    expect(statuses.filter((s) => s === 429).length).toBe(40 - LINK_TOKEN_LIMIT.max);
    const refused = answers.find((r) => r.status === 429)!;
    expectProblem(refused, 429, "too_many_requests");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    // Another client is still answered.
    const other = await api("POST", path, {
      slug: t.slug,
      body: { ...body, token: "guess-other" },
      headers: { "cf-connecting-ip": client() },
    });
    expectProblem(other, 400);
  });
});
