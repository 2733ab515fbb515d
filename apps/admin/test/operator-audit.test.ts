/**
 * The operator audit log (issue 10, section 3): filters by operator, tenant, action and time,
 * cursor pages newest first, and a CSV export that spreadsheets open safely.
 */
import { env } from "cloudflare:workers";
import { controlDb } from "@tenantry/core";
import { newId } from "@tenantry/schema";
import { type PlatformAuditAction, platformAuditLog } from "@tenantry/schema/control";
import { beforeAll, describe, expect, it } from "vitest";
import { createTenant, type TestTenant } from "../../../workers/api/test/helpers";
import { csvRow } from "../server/csv";
import { diffSnapshots, listOperatorAudit } from "../server/services/operator-audit";
import { adminFetch, operatorWithToken } from "./helpers";

type Op = Awaited<ReturnType<typeof operatorWithToken>>;

const T0 = Date.parse("2026-03-01T10:00:00Z");
const HOUR = 3_600_000;

/** An entry as an operator mutation writes it, at a chosen time. */
async function entry(
  op: Op,
  at: number,
  over: {
    action?: PlatformAuditAction;
    tenantId?: string | null;
    reason?: string;
    before?: object;
    after?: object;
  } = {},
) {
  const id = newId("audit", at);
  await controlDb(env)
    .insert(platformAuditLog)
    .values({
      id,
      actorType: "operator",
      actorId: op.id,
      action: over.action ?? "tenant.suspend",
      tenantId: over.tenantId ?? null,
      targetType: "tenant",
      targetId: over.tenantId ?? "ten_none",
      reason: over.reason ?? "testing",
      before: over.before ? JSON.stringify(over.before) : null,
      after: over.after ? JSON.stringify(over.after) : null,
      requestId: newId("request"),
      ip: "203.0.113.9",
      createdAt: at,
    });
  return id;
}

async function list(viewer: Op, query: Record<string, string>) {
  const res = await adminFetch(`/api/v1/audit-log?${new URLSearchParams(query)}`, {
    token: viewer.token,
  });
  return { status: res.status, body: (await res.json()) as any };
}

describe("operator audit log", () => {
  let viewer: Op;
  let alice: Op;
  let bob: Op;
  let acme: TestTenant;
  let ids: Record<string, string>;

  beforeAll(async () => {
    [viewer, alice, bob] = await Promise.all([
      operatorWithToken("read_only"),
      operatorWithToken("support"),
      operatorWithToken("billing"),
    ]);
    acme = await createTenant();
    ids = {
      a1: await entry(alice, T0, {
        tenantId: acme.tenant.id,
        before: { status: "active", plan: "pro" },
        after: { status: "suspended", plan: "pro" },
      }),
      a2: await entry(alice, T0 + HOUR, { action: "tenant.reactivate", tenantId: acme.tenant.id }),
      a3: await entry(alice, T0 + 2 * HOUR, { action: "support.start" }),
      b1: await entry(bob, T0 + HOUR + 1000, {
        action: "override.create",
        tenantId: acme.tenant.id,
      }),
    };
  });

  it("shows actor email, tenant slug, reason, a readable diff, request id and IP", async () => {
    const { status, body } = await list(viewer, { operator: alice.email });
    expect(status).toBe(200);
    expect(body.data.map((e: any) => e.id)).toEqual([ids.a3, ids.a2, ids.a1]);
    expect(body.data[2]).toMatchObject({
      created_at: new Date(T0).toISOString(),
      actor: { type: "operator", id: alice.id, email: alice.email },
      action: "tenant.suspend",
      tenant: { id: acme.tenant.id, slug: acme.slug },
      reason: "testing",
      before: { status: "active", plan: "pro" },
      after: { status: "suspended", plan: "pro" },
      changes: [{ field: "status", before: "active", after: "suspended" }],
      request_id: expect.stringMatching(/^req_/),
      ip: "203.0.113.9",
    });
    expect(body.data[0].tenant).toBeNull();
  });

  it("filters by operator (id or email), tenant (id or slug), action and time", async () => {
    const ofBob = await list(viewer, { operator: bob.id });
    expect(ofBob.body.data.map((e: any) => e.id)).toEqual([ids.b1]);

    for (const tenant of [acme.slug, acme.tenant.id]) {
      const { body } = await list(viewer, { tenant });
      expect(body.data.map((e: any) => e.id)).toEqual([ids.b1, ids.a2, ids.a1]);
    }
    const action = await list(viewer, { tenant: acme.slug, action: "override.create" });
    expect(action.body.data.map((e: any) => e.id)).toEqual([ids.b1]);

    // From inclusive, to exclusive; a bound without a zone is UTC (a datetime-local field).
    const hour = await list(viewer, {
      operator: alice.id,
      from: new Date(T0 + HOUR).toISOString(),
      to: "2026-03-01T12:00",
    });
    expect(hour.body.data.map((e: any) => e.id)).toEqual([ids.a2]);

    const nothing: Record<string, string>[] = [{ operator: "no@ops.example" }, { tenant: "nope" }];
    for (const none of nothing) {
      expect((await list(viewer, none)).body).toEqual({ data: [], next_cursor: null });
    }
    expect((await list(viewer, { action: "tenant.explode" })).status).toBe(400);
    expect((await list(viewer, { from: "yesterday" })).status).toBe(400);
    expect((await adminFetch("/api/v1/audit-log")).status).toBe(401);
  });

  it("pages newest first with a cursor, without gaps or repeats", async () => {
    const op = await operatorWithToken("support");
    const written = [];
    for (let i = 0; i < 7; i++) written.push(await entry(op, T0 + i * 1000));
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: Record<string, string> = { operator: op.id, limit: "3" };
      if (cursor) query.cursor = cursor;
      const { body } = await list(viewer, query);
      seen.push(...body.data.map((e: any) => e.id));
      cursor = body.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(written.reverse());
    expect((await list(viewer, { cursor: "'; DROP TABLE x" })).status).toBe(400);
  });
});

/** The control database, recording each statement the code under test binds. */
function recordingControlDb() {
  const seen: { sql: string; params: unknown[] }[] = [];
  const bound = <T extends object>(target: T, prop: string | symbol) => {
    const value = Reflect.get(target, prop);
    return typeof value === "function" ? value.bind(target) : value;
  };
  const db = new Proxy(env.CONTROL_DB, {
    get(target, prop) {
      if (prop !== "prepare") return bound(target, prop);
      return (sql: string) =>
        new Proxy(target.prepare(sql), {
          get(stmt, p) {
            if (p !== "bind") return bound(stmt, p);
            return (...params: unknown[]) => {
              seen.push({ sql, params });
              return stmt.bind(...params);
            };
          },
        });
    },
  });
  return { db, seen };
}

describe("operator audit query plans", () => {
  it("every filter walks an index in page order, never sorting", async () => {
    const { db, seen } = recordingControlDb();
    const ctx = { env: { ...env, CONTROL_DB: db }, requestId: "test", ip: null };
    const shapes: [Record<string, string>, string][] = [
      [{}, "sqlite_autoindex_platform_audit_log_1"],
      [{ tenant: "ten_0000000000X" }, "platform_audit_log_tenant_idx"],
      [{ operator: "opr_0000000000X" }, "platform_audit_log_actor_idx"],
      [{ action: "tenant.suspend" }, "platform_audit_log_action_idx"],
      [
        { from: "2026-01-01T00:00", to: "2026-02-01T00:00" },
        "sqlite_autoindex_platform_audit_log_1",
      ],
      [{ tenant: "ten_0000000000X", from: "2026-01-01T00:00" }, "platform_audit_log_tenant_idx"],
    ];
    for (const [input, index] of shapes) {
      await listOperatorAudit({ ctx, input: { ...input, cursor: "aud_01ZZZZZZZZ" } });
      const query = seen.at(-1)!;
      const { results } = await env.CONTROL_DB.prepare(`EXPLAIN QUERY PLAN ${query.sql}`)
        .bind(...query.params)
        .all<{ detail: string }>();
      const plan = results.map((r) => r.detail).join(" | ");
      expect(plan, JSON.stringify(input)).toContain(`USING INDEX ${index}`);
      expect(plan, JSON.stringify(input)).not.toContain("TEMP B-TREE");
    }
  });
});

describe("operator audit CSV", () => {
  it("quotes every cell and defuses formulas", () => {
    expect(csvRow(['a "quoted", value', "line\nbreak", null, 42])).toBe(
      '"a ""quoted"", value","line\nbreak","","42"\r\n',
    );
    expect(csvRow(["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "safe=1"])).toBe(
      `"'=1+1","'+1","'-1","'@SUM(A1)","'\tx","safe=1"\r\n`,
    );
  });

  it("exports the filtered log as a download, newest first", async () => {
    const [viewer, op] = await Promise.all([
      operatorWithToken("read_only"),
      operatorWithToken("support"),
    ]);
    await entry(op, T0, { reason: '=HYPERLINK("https://evil.example","click")' });
    await entry(op, T0 + 1000, {
      reason: "plain, with comma",
      before: { limit: 10 },
      after: { limit: 20 },
    });
    const res = await adminFetch(`/api/v1/audit-log.csv?operator=${op.email}`, {
      token: viewer.token,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("content-disposition")).toBe(
      'attachment; filename="operator-audit.csv"',
    );
    const lines = (await res.text()).split("\r\n");
    expect(lines[0]).toBe(
      '"created_at","operator_email","actor_type","actor_id","action","tenant_slug","tenant_id","target_type","target_id","reason","changes","before","after","request_id","ip"',
    );
    expect(lines).toHaveLength(4);
    expect(lines[1]).toContain('"plain, with comma","limit: 10 → 20","{""limit"":10}"');
    expect(lines[2]).toContain(`"'=HYPERLINK(""https://evil.example"",""click"")"`);
    expect(lines[3]).toBe("");
    const none = await adminFetch("/api/v1/audit-log.csv?operator=nobody@ops.example", {
      token: viewer.token,
    });
    expect(await none.text()).toBe(`${lines[0]}\r\n`);
    expect((await adminFetch("/api/v1/audit-log.csv")).status).toBe(401);
  });

  it("diffs snapshots field by field", () => {
    expect(diffSnapshots(null, { a: 1 })).toEqual([{ field: "a", before: null, after: 1 }]);
    expect(diffSnapshots({ a: 1, b: [1] }, { a: 1, b: [2], c: "x" })).toEqual([
      { field: "b", before: [1], after: [2] },
      { field: "c", before: null, after: "x" },
    ]);
  });
});
