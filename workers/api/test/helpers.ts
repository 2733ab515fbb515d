import { env, exports } from "cloudflare:workers";
import {
  approveSupportAccess,
  mintSupportToken,
  type NotifyInput,
  notify,
  refreshMeter,
  type SupportAccessContext,
  type SupportAccessEnv,
  startSupportAccess,
  tenantDb,
} from "@tenantry/core";
import { hashPassword } from "@tenantry/core/crypto";
import { newId } from "@tenantry/schema";
import type { OperatorRole } from "@tenantry/schema/control";
import { expect } from "vitest";
import type { Role } from "../src/rbac/permissions";
import { findTenantBySlug, type TenantRow } from "../src/services/registry";
import { createSession, type TokenPair } from "../src/services/sessions";

export const BASE = "localhost:8787";
export const PASSWORD = "correct horse battery staple";

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** Calls the worker through its real fetch handler, on a tenant host or the apex. */
export async function api<T = any>(
  method: string,
  path: string,
  opts: {
    slug?: string;
    token?: string;
    body?: unknown;
    rawBody?: string;
    headers?: Record<string, string>;
    /** "app": through the `TenantApp` entrypoint, as the tenant app's service binding calls. */
    via?: "app";
  } = {},
): Promise<ApiResponse<T>> {
  const host = opts.slug ? `${opts.slug}.${BASE}` : BASE;
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.rawBody !== undefined) body = opts.rawBody;
  else if (opts.body !== undefined) body = JSON.stringify(opts.body);
  if (body !== undefined) headers["content-type"] ??= "application/json";
  const entry = opts.via === "app" ? exports.TenantApp : exports.default;
  const res = await entry.fetch(`http://${host}${path}`, {
    method,
    headers,
    body,
    redirect: "manual",
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {}
  return { status: res.status, headers: res.headers, body: parsed as T };
}

/** Asserts an RFC 9457 problem with the given status and code, and the request id. */
export function expectProblem(res: ApiResponse, status: number, code?: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  expect(res.body).toMatchObject({
    status,
    type: expect.stringContaining("/problems/"),
    title: expect.any(String),
  });
  expect(res.body.request_id).toBe(res.headers.get("x-request-id"));
  if (code) expect(res.body.code).toBe(code);
}

let counter = 0;
/** A slug unique within the test file (storage is per file). */
export function uniqueSlug(prefix = "t"): string {
  counter++;
  return `${prefix}-${counter}-${Math.random().toString(36).slice(2, 8)}`;
}

export interface TestTenant {
  tenant: TenantRow;
  slug: string;
  owner: { id: string; email: string; token: string; refresh: string };
}

/** Signs a tenant up through the API, as a customer would. */
/**
 * Test tenants get request budgets far above the free plan's 10/s (tests send bursts); tests of
 * the budgets themselves ask for the plan's (`planRateLimits`).
 */
async function raiseRateLimits(tenantId: string) {
  const budget = { perSecond: 100_000, perMinute: 1_000_000 };
  const statements = (["tenant", "apiKey", "expensive", "essential", "refused"] as const).map(
    (key) =>
      env.CONTROL_DB.prepare(
        "INSERT INTO entitlement_overrides (id, tenant_id, override, expires_at, created_at) VALUES (?, ?, ?, NULL, ?)",
      ).bind(
        newId("override"),
        tenantId,
        JSON.stringify({ type: "rate_limit", key, value: budget, reason: "tests send bursts" }),
        Date.now(),
      ),
  );
  await env.CONTROL_DB.batch(statements);
}

export async function createTenant(
  opts: { slug?: string; email?: string; planRateLimits?: boolean } = {},
): Promise<TestTenant> {
  const slug = opts.slug ?? uniqueSlug();
  const email = opts.email ?? `owner@${slug}.example`;
  const res = await api("POST", "/v1/signup", {
    body: { organization_name: `Org ${slug}`, slug, email, password: PASSWORD },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const tenant = (await findTenantBySlug(env, slug))!;
  if (!opts.planRateLimits) await raiseRateLimits(tenant.id);
  return {
    tenant,
    slug,
    owner: {
      id: res.body.user.id,
      email,
      token: res.body.access_token,
      refresh: res.body.refresh_token,
    },
  };
}

let passwordHash: Promise<string> | undefined;

export interface TestMember {
  userId: string;
  memberId: string;
  email: string;
  role: Role;
  tokens: TokenPair;
}

/**
 * A member with a role, created straight in the databases (the invitation flow has its own
 * tests) and signed in through the session service.
 */
export async function addMember(
  t: TestTenant,
  role: Role,
  existing?: { userId: string; email: string },
): Promise<TestMember> {
  passwordHash ??= hashPassword(PASSWORD);
  const now = Date.now();
  const userId = existing?.userId ?? newId("user");
  const email = existing?.email ?? `${role}-${uniqueSlug("m")}@example.com`;
  const memberId = newId("member");
  await env.CONTROL_DB.batch([
    env.CONTROL_DB.prepare(
      "INSERT OR IGNORE INTO users (id, email, password_hash, email_verified_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
    ).bind(userId, email, await passwordHash, now, now, now),
    env.CONTROL_DB.prepare(
      "INSERT INTO user_tenants (user_id, tenant_id, created_at) VALUES (?, ?, ?)",
    ).bind(userId, t.tenant.id, now),
  ]);
  await tenantD1(t)
    .prepare(
      "INSERT INTO members (id, tenant_id, user_id, email, role, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(memberId, t.tenant.id, userId, email, role, now, now)
    .run();
  const tokens = await createSession({
    ctx: { env, tenant: t.tenant, requestId: "test", ip: null },
    input: { userId },
  });
  return { userId, memberId, email, role, tokens };
}

export function tenantD1(t: TestTenant): D1Database {
  return (env as unknown as Record<string, D1Database>)[t.tenant.databaseBinding!]!;
}

export async function createApiKey(t: TestTenant, permissions: string[], token = t.owner.token) {
  const res = await api("POST", "/v1/api-keys", {
    slug: t.slug,
    token,
    body: { name: "test key", permissions },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; key: string };
}

export async function setStatus(t: TestTenant, status: "active" | "suspended" | "provisioning") {
  await env.CONTROL_DB.prepare("UPDATE tenants SET status = ? WHERE id = ?")
    .bind(status, t.tenant.id)
    .run();
}

export async function markEmailVerified(userId: string) {
  await env.CONTROL_DB.prepare("UPDATE users SET email_verified_at = ? WHERE id = ?")
    .bind(Date.now(), userId)
    .run();
}

/**
 * The newest message the development mailer delivered to `to` (with `subject` in its subject, if
 * given). Mail travels through the MAIL queue, so this waits for it: at most 10 s, then null.
 */
export async function lastMail(to: string, subject = "") {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const row = await env.CONTROL_DB.prepare(
      'SELECT * FROM mail_outbox WHERE "to" = ? AND instr(subject, ?) > 0 ORDER BY id DESC LIMIT 1',
    )
      .bind(to.toLowerCase(), subject)
      .first<{ id: string; subject: string; text: string; tenant_id: string }>();
    if (row || Date.now() > deadline) return row;
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function tokenFromMail(text: string): string {
  const m = text.match(/token=([^\s&]+)/);
  if (!m?.[1]) throw new Error(`no token in mail:\n${text}`);
  return decodeURIComponent(m[1]);
}

export async function auditRows(t: TestTenant, action?: string) {
  const stmt = action
    ? tenantD1(t).prepare("SELECT * FROM audit_log WHERE action = ? ORDER BY id").bind(action)
    : tenantD1(t).prepare("SELECT * FROM audit_log ORDER BY id");
  return (await stmt.all<Record<string, any>>()).results;
}

export async function count(db: D1Database, table: string): Promise<number> {
  return (await db.prepare(`SELECT count(*) AS n FROM ${table}`).first<{ n: number }>())!.n;
}

/** A per-tenant entitlement override (as an operator would grant it). */
/** A `past_due` subscription that ran out of grace `days` ago (read-only billing). */
export async function setPastDue(t: TestTenant, days = 8) {
  await env.CONTROL_DB.prepare(
    `INSERT INTO subscriptions (tenant_id, stripe_customer_id, status, plan, past_due_since, synced_at)
     VALUES (?, 'cus_test', 'past_due', 'pro', ?, ?)`,
  )
    .bind(t.tenant.id, Date.now() - days * 24 * 3600_000, Date.now())
    .run();
}

/** Paid again: the `past_due` subscription is active. */
export async function setPaid(t: TestTenant) {
  await env.CONTROL_DB.prepare(
    "UPDATE subscriptions SET status = 'active', past_due_since = NULL WHERE tenant_id = ?",
  )
    .bind(t.tenant.id)
    .run();
}

export async function addOverride(
  t: TestTenant,
  override: Record<string, unknown>,
  expiresAt: number | null = null,
) {
  await env.CONTROL_DB.prepare(
    "INSERT INTO entitlement_overrides (id, tenant_id, override, expires_at, created_at) VALUES (?, ?, ?, ?, ?)",
  )
    .bind(
      newId("override"),
      t.tenant.id,
      JSON.stringify({ ...override, expiresAt }),
      expiresAt,
      Date.now(),
    )
    .run();
  // Whoever writes overrides tells the meter (refreshMeter in @tenantry/core), as here.
  await refreshMeter(env, t.tenant.id);
}

/** Pays on the emulator's hosted checkout page, as a browser would; returns the redirect. */
export async function payOnHostedPage(url: string): Promise<string> {
  const page = await fetch(url);
  const html = await page.text();
  const form = html.match(/<form method="post" action="([^"]+)">([\s\S]*?)<\/form>/);
  if (!form?.[1]) throw new Error(`no form on ${url}`);
  const fields = new URLSearchParams({ action: "pay" });
  for (const m of form[2]!.matchAll(/<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g)) {
    if (m[1] !== "action") fields.set(m[1]!, m[2]!);
  }
  const res = await fetch(new URL(form[1], url), {
    method: "POST",
    body: fields,
    redirect: "manual",
  });
  await res.body?.cancel();
  expect(res.status).toBe(303);
  return res.headers.get("location")!;
}

export async function subscribe(t: TestTenant, plan = "pro") {
  const checkout = await api("POST", "/v1/billing/checkout", {
    slug: t.slug,
    token: t.owner.token,
    body: { plan, interval: "month" },
  });
  expect(checkout.status, JSON.stringify(checkout.body)).toBe(200);
  const success = new URL(await payOnHostedPage(checkout.body.url));
  expect(success.host).toBe(`${t.slug}.localhost:8787`);
  expect(success.pathname).toBe("/v1/billing/checkout/complete");
  return success;
}

/** An operator's context for core's support-access verbs (the admin worker builds the same). */
export function operatorCtx(
  role: OperatorRole = "support",
  id = `opr_${crypto.randomUUID().slice(0, 8)}`,
): SupportAccessContext {
  return {
    env: env satisfies SupportAccessEnv,
    requestId: newId("request"),
    ip: null,
    operator: { id, email: `${id}@ops.example`, role },
  };
}

/** Read-only support access to `t` by a new support operator, and a token for it. */
export async function readOnlySupport(t: TestTenant, ctx = operatorCtx()) {
  const session = await startSupportAccess({
    ctx,
    input: { tenantId: t.tenant.id, reason: "customer asked why an import failed" },
  });
  const { token } = await mintSupportToken({ ctx, input: { sessionId: session.id } });
  return { ctx, session, token };
}

/** Write access: requested by one platform admin, approved by another; returns its token. */
export async function writeSupport(t: TestTenant) {
  const requester = operatorCtx("platform_admin");
  const session = await startSupportAccess({
    ctx: requester,
    input: {
      tenantId: t.tenant.id,
      reason: "fix a broken project",
      mode: "write",
      ticketId: "T-9",
    },
  });
  await approveSupportAccess({
    ctx: operatorCtx("platform_admin"),
    input: { sessionId: session.id },
  });
  const { token } = await mintSupportToken({ ctx: requester, input: { sessionId: session.id } });
  return { requester, session, token };
}

/** A notification in `t`'s inbox, through the one notify verb; returns its id. */
export async function addNotification(
  t: TestTenant,
  input: Partial<NotifyInput> = {},
): Promise<string> {
  const db = tenantDb(env, t.tenant);
  const dedupeKey = input.dedupeKey ?? `test:${crypto.randomUUID()}`;
  await notify(db, { kind: "invitation.accepted", title: "A test notice", ...input, dedupeKey });
  const row = await tenantD1(t)
    .prepare("SELECT id FROM notifications WHERE dedupe_key = ?")
    .bind(dedupeKey)
    .first<{ id: string }>();
  return row!.id;
}
