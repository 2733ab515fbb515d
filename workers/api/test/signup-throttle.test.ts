/**
 * Sign-up throttling with the production limits (the suite's config raises them, see
 * vitest.config.ts): requests go through the worker's app with the limits unset.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../src/index";
import { SIGNUP_LIMITS } from "../src/services/signup-throttle";
import { BASE, count, createTenant, expectProblem, PASSWORD, uniqueSlug } from "./helpers";

const production = {
  ...env,
  SIGNUP_LIMIT_PER_CLIENT: undefined,
  SIGNUP_LIMIT_PER_DOMAIN: undefined,
};

let ipCounter = 0;
/** A client address of its own for each test, so budgets never carry over between tests. */
const newIp = () => `198.51.100.${++ipCounter}`;

async function signup(body: { slug: string; email: string }, ip: string) {
  const ctx = createExecutionContext();
  const res = await app.request(
    `http://${BASE}/v1/signup`,
    {
      method: "POST",
      headers: { "content-type": "application/json", "cf-connecting-ip": ip },
      body: JSON.stringify({ organization_name: "Scripted", password: PASSWORD, ...body }),
    },
    production,
    ctx,
  );
  const parsed = await res.json<any>();
  await waitOnExecutionContext(ctx);
  return { status: res.status, headers: res.headers, body: parsed };
}

const fresh = (domain?: string) => {
  const slug = uniqueSlug("x");
  return { slug, email: `owner-${slug}@${domain ?? `${slug}.example`}` };
};

describe("sign-up throttle", () => {
  it("one client gets at most its budget of sign-ups an hour, however parallel, and refusals cost nothing", async () => {
    const ip = newIp();
    const usersBefore = await count(env.CONTROL_DB, "users");
    const attempts = Array.from({ length: SIGNUP_LIMITS.client + 7 }, () => fresh());
    const results = await Promise.all(attempts.map((a) => signup(a, ip)));
    const created = results.filter((r) => r.status === 201);
    const refused = results.filter((r) => r.status === 429);
    expect(created.length).toBe(SIGNUP_LIMITS.client);
    expect(refused.length).toBe(7);
    for (const r of refused) {
      expectProblem(r, 429, "too_many_requests");
      expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(3000);
    }
    // Refused before any hashing or provisioning: only the admitted sign-ups left rows.
    expect(await count(env.CONTROL_DB, "users")).toBe(usersBefore + SIGNUP_LIMITS.client);
    // Another client is not affected.
    expect((await signup(fresh(), newIp())).status).toBe(201);
  });

  it("one email domain gets at most its budget an hour, from any number of clients", async () => {
    const domain = `${uniqueSlug("corp")}.example`;
    const results = await Promise.all(
      Array.from({ length: SIGNUP_LIMITS.domain + 5 }, () => signup(fresh(domain), newIp())),
    );
    expect(results.filter((r) => r.status === 201).length).toBe(SIGNUP_LIMITS.domain);
    expect(results.filter((r) => r.status === 429).length).toBe(5);
    // The domain is compared lower-cased.
    expectProblem(await signup(fresh(domain.toUpperCase()), newIp()), 429, "too_many_requests");
    expect((await signup(fresh(), newIp())).status).toBe(201);
  });

  it("consumer mail domains are budgeted per mailbox: one abuser does not lock out gmail.com", async () => {
    // A taken slug makes each admitted attempt a cheap 409, and admitted attempts count all the same.
    const { slug } = await createTenant();
    const many = await Promise.all(
      Array.from({ length: SIGNUP_LIMITS.domain + 5 }, (_, i) =>
        signup({ slug, email: `person${i}-${slug}@gmail.com` }, newIp()),
      ),
    );
    expect(many.map((r) => r.status)).toEqual(many.map(() => 409));
    // One mailbox, spelled with dots, sub-addresses and Google's other domain, is one budget.
    const local = `ab${slug.replaceAll("-", "")}`;
    const spellings = Array.from({ length: SIGNUP_LIMITS.client + 3 }, (_, i) =>
      i % 2
        ? `${local.slice(0, 1)}.${local.slice(1)}+${i}@googlemail.com`
        : `${local}+${i}@gmail.com`,
    );
    const same = await Promise.all(spellings.map((email) => signup({ slug, email }, newIp())));
    expect(same.filter((r) => r.status === 409).length).toBe(SIGNUP_LIMITS.client);
    expect(same.filter((r) => r.status === 429).length).toBe(3);
  });
});
