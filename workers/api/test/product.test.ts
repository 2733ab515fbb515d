/** The example product: projects and tasks, each mutation with its audit entry; plan limits. */
import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { createTenantryClient, problemMessage } from "@tenantry/client";
import { meterFor } from "@tenantry/core";
import { describe, expect, it } from "vitest";
import {
  addMember,
  addOverride,
  api,
  auditRows,
  BASE,
  count,
  createTenant,
  expectProblem,
  readOnlySupport,
  setPaid,
  setPastDue,
  tenantD1,
  writeSupport,
} from "./helpers";

const meter = (tenantId: string) => meterFor(env.TENANT_METER, tenantId);

describe("projects and tasks", () => {
  it("CRUD with an audit entry per mutation, carrying the request id", async () => {
    const t = await createTenant();
    const as = { slug: t.slug, token: t.owner.token };
    const created = await api("POST", "/v1/projects", {
      ...as,
      body: { name: "Apollo", description: "moon" },
    });
    expect(created.status).toBe(201);
    const id = created.body.id;
    expect(id).toMatch(/^prj_/);
    expect((await api("GET", `/v1/projects/${id}`, as)).body).toMatchObject({
      name: "Apollo",
      description: "moon",
    });
    const updated = await api("PATCH", `/v1/projects/${id}`, { ...as, body: { name: "Artemis" } });
    expect(updated.body).toMatchObject({ name: "Artemis", description: "moon" });

    const task = await api("POST", `/v1/projects/${id}/tasks`, {
      ...as,
      body: { title: "Launch" },
    });
    expect(task.body).toMatchObject({ title: "Launch", status: "todo", project_id: id });
    const moved = await api("PATCH", `/v1/projects/${id}/tasks/${task.body.id}`, {
      ...as,
      body: { status: "done" },
    });
    expect(moved.body.status).toBe("done");
    expect((await api("GET", `/v1/projects/${id}/tasks/${task.body.id}`, as)).body.status).toBe(
      "done",
    );

    const removed = await api("DELETE", `/v1/projects/${id}`, as);
    expect(removed.status).toBe(204);
    expectProblem(await api("GET", `/v1/projects/${id}`, as), 404);
    expectProblem(await api("GET", `/v1/projects/${id}/tasks/${task.body.id}`, as), 404);
    const orphans = await tenantD1(t)
      .prepare("SELECT count(*) AS n FROM tasks WHERE project_id = ?")
      .bind(id)
      .first();
    expect(orphans).toEqual({ n: 0 });

    const actions = (await auditRows(t)).map((r) => r.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        "project.create",
        "project.update",
        "task.create",
        "task.update",
        "project.delete",
      ]),
    );
    const [create] = await auditRows(t, "project.create");
    expect(create).toMatchObject({
      actor_type: "user",
      actor_id: t.owner.id,
      target_id: id,
      request_id: created.headers.get("x-request-id"),
    });
    const [update] = await auditRows(t, "project.update");
    expect(JSON.parse(update!.before).name).toBe("Apollo");
    expect(JSON.parse(update!.after).name).toBe("Artemis");
  });

  it("every row carries the tenant id", async () => {
    const t = await createTenant();
    const p = await api("POST", "/v1/projects", {
      slug: t.slug,
      token: t.owner.token,
      body: { name: "x" },
    });
    await api("POST", `/v1/projects/${p.body.id}/tasks`, {
      slug: t.slug,
      token: t.owner.token,
      body: { title: "y" },
    });
    for (const table of ["projects", "tasks", "members", "sessions", "audit_log"]) {
      const rows = await tenantD1(t).prepare(`SELECT DISTINCT tenant_id FROM ${table}`).all();
      expect(rows.results, table).toEqual([{ tenant_id: t.tenant.id }]);
    }
  });

  it("paginates with a cursor, newest first", async () => {
    const t = await createTenant();
    await addOverride(t, { type: "limit", key: "projects", value: 10, reason: "pagination test" });
    const as = { slug: t.slug, token: t.owner.token };
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await api("POST", "/v1/projects", { ...as, body: { name: `p${i}` } })).body.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { data: { id: string }[]; next_cursor: string | null } } = await api(
        "GET",
        `/v1/projects?limit=2${cursor ? `&cursor=${cursor}` : ""}`,
        as,
      );
      seen.push(...page.body.data.map((p) => p.id));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
    expectProblem(await api("GET", "/v1/projects?limit=1000", as), 400);
    expectProblem(await api("GET", "/v1/projects?cursor=';drop", as), 400);
  });

  it("through the typed client (@tenantry/client): create, then list page by page", async () => {
    const t = await createTenant();
    const client = createTenantryClient({
      baseUrl: `http://${t.slug}.${BASE}`,
      fetch: (request) => exports.default.fetch(request),
      token: t.owner.token,
    });
    const created: string[] = [];
    for (const name of ["Apollo", "Gemini"]) {
      const { data, response } = await client.POST("/v1/projects", { body: { name } });
      expect(response.status).toBe(201);
      created.push(data!.id);
    }
    const first = await client.GET("/v1/projects", { params: { query: { limit: 1 } } });
    const second = await client.GET("/v1/projects", {
      params: { query: { limit: 1, cursor: first.data!.next_cursor! } },
    });
    expect([...first.data!.data, ...second.data!.data].map((p) => p.name)).toEqual([
      "Gemini",
      "Apollo",
    ]);
    expect(second.data!.next_cursor).toBeNull();

    const refused = await client.POST("/v1/projects", { body: { name: "" } });
    expect(refused.error).toMatchObject({ status: 400, code: "invalid_request" });
    expect(problemMessage(refused)).toContain(`(request ${refused.error!.request_id})`);
  });

  it("tasks of one project are not reachable through another", async () => {
    const t = await createTenant();
    const as = { slug: t.slug, token: t.owner.token };
    const p1 = (await api("POST", "/v1/projects", { ...as, body: { name: "a" } })).body.id;
    const p2 = (await api("POST", "/v1/projects", { ...as, body: { name: "b" } })).body.id;
    const task = (await api("POST", `/v1/projects/${p1}/tasks`, { ...as, body: { title: "t" } }))
      .body.id;
    expectProblem(await api("GET", `/v1/projects/${p2}/tasks/${task}`, as), 404);
  });

  it("viewers read, members write", async () => {
    const t = await createTenant();
    const viewer = await addMember(t, "viewer");
    const member = await addMember(t, "member");
    expect(
      (
        await api("POST", "/v1/projects", {
          slug: t.slug,
          token: member.tokens.access_token,
          body: { name: "m" },
        })
      ).status,
    ).toBe(201);
    expect(
      (await api("GET", "/v1/projects", { slug: t.slug, token: viewer.tokens.access_token })).body
        .data,
    ).toHaveLength(1);
    expectProblem(
      await api("POST", "/v1/projects", {
        slug: t.slug,
        token: viewer.tokens.access_token,
        body: { name: "v" },
      }),
      403,
    );
  });
});

describe("support access to projects", () => {
  it("read-only support reads projects and cannot write them", async () => {
    const t = await createTenant();
    const { token } = await readOnlySupport(t);
    const as = { slug: t.slug, token };
    expect((await api("GET", "/v1/projects", as)).status).toBe(200);
    expectProblem(
      await api("POST", "/v1/projects", { ...as, body: { name: "p" } }),
      403,
      "support_read_only",
    );
    expect(await count(tenantD1(t), "projects")).toBe(0);
  });

  it("approved write access creates projects, audited under the support session", async () => {
    const t = await createTenant();
    const { session, token } = await writeSupport(t);
    const res = await api("POST", "/v1/projects", { slug: t.slug, token, body: { name: "fix" } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const [created] = await auditRows(t, "project.create");
    expect(created).toMatchObject({ actor_type: "support", actor_id: session.id });
  });
});

describe("plan limits", () => {
  it("project creation stops at the plan's limit with a problem naming it; an override lifts it", async () => {
    const t = await createTenant();
    const as = { slug: t.slug, token: t.owner.token };
    for (let i = 0; i < 3; i++)
      expect((await api("POST", "/v1/projects", { ...as, body: { name: `p${i}` } })).status).toBe(
        201,
      );
    const refused = await api("POST", "/v1/projects", { ...as, body: { name: "one too many" } });
    expectProblem(refused, 403, "plan_limit_reached");
    expect(refused.body).toMatchObject({
      limit: "projects",
      limit_value: 3,
      used: 3,
      plan: "free",
    });
    expect((await auditRows(t, "project.create")).length).toBe(3);
    await addOverride(t, { type: "limit", key: "projects", value: 4, reason: "support case" });
    expect((await api("POST", "/v1/projects", { ...as, body: { name: "now fits" } })).status).toBe(
      201,
    );
  });

  it("a read-only tenant keeps its projects readable and refuses every project write", async () => {
    const t = await createTenant();
    const as = { slug: t.slug, token: t.owner.token };
    const kept = await api("POST", "/v1/projects", { ...as, body: { name: "kept" } });
    await setPastDue(t);
    const writes: [string, string, unknown?][] = [
      ["POST", "/v1/projects", { name: "x" }],
      ["PATCH", `/v1/projects/${kept.body.id}`, { name: "renamed" }],
      ["DELETE", `/v1/projects/${kept.body.id}`],
      ["POST", `/v1/projects/${kept.body.id}/tasks`, { title: "t" }],
    ];
    for (const [method, path, body] of writes) {
      const refused = await api(method, path, { ...as, body });
      expectProblem(refused, 403, "billing_read_only");
      expect(refused.body, `${method} ${path}`).toMatchObject({
        billing_status: "past_due",
        access: "read_only",
      });
    }
    expect((await api("GET", "/v1/projects", as)).body.data).toHaveLength(1);
    await setPaid(t);
    expect((await api("POST", "/v1/projects", { ...as, body: { name: "y" } })).status).toBe(201);
  });
});

describe("the projects gauge", () => {
  it("concurrent creations never overshoot the plan's limit; a deletion gives the unit back", async () => {
    const t = await createTenant();
    const as = { slug: t.slug, token: t.owner.token };
    const created = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        api("POST", "/v1/projects", { ...as, body: { name: `p${i}` } }),
      ),
    );
    const ok = created.filter((r) => r.status === 201);
    expect(ok).toHaveLength(3);
    for (const r of created.filter((r) => r.status !== 201)) {
      expectProblem(r, 403, "plan_limit_reached");
    }
    expect(await count(tenantD1(t), "projects")).toBe(3);
    expect((await api("DELETE", `/v1/projects/${ok[0]?.body.id}`, as)).status).toBe(204);
    expect((await api("POST", "/v1/projects", { ...as, body: { name: "again" } })).status).toBe(
      201,
    );
  });

  it("re-derives from the tenant's projects: drift is corrected and reported", async () => {
    const t = await createTenant();
    await addMember(t, "viewer");
    const m = meter(t.tenant.id);
    // A project through the API makes the meter derive its gauges once.
    expect(
      (
        await api("POST", "/v1/projects", {
          slug: t.slug,
          token: t.owner.token,
          body: { name: "p" },
        })
      ).status,
    ).toBe(201);
    await runInDurableObject(m, (_, state) => {
      state.storage.sql.exec("UPDATE gauges SET value = 0");
    });
    // Seats had never been used: derived now (owner and viewer), which is not drift.
    expect(await m.reconcileGauges(t.tenant.id)).toEqual([{ metric: "projects", from: 0, to: 1 }]);
    await runInDurableObject(m, (_, state) => {
      state.storage.sql.exec("UPDATE gauges SET value = 7 WHERE metric = 'seats'");
    });
    expect(await m.reconcileGauges(t.tenant.id)).toEqual([{ metric: "seats", from: 7, to: 2 }]);
    expect(await m.reconcileGauges(t.tenant.id)).toEqual([]);
  });

  it("a pending project reservation is counted, an abandoned one lapses", async () => {
    const t = await createTenant();
    const m = meter(t.tenant.id);
    const taken = await m.consume(t.tenant.id, {
      metric: "projects",
      amount: 1,
      key: "projects:pending",
      reserve: true,
    });
    expect(taken).toMatchObject({ allowed: true, used: 1 });
    // The project is not written yet: re-derivation keeps its unit.
    expect(await m.reconcileGauges(t.tenant.id)).toEqual([]);
    await runInDurableObject(m, (_, state) => {
      state.storage.sql.exec("UPDATE reservations SET created_at = created_at - 3600000");
    });
    expect(await m.reconcileGauges(t.tenant.id)).toEqual([{ metric: "projects", from: 1, to: 0 }]);
  });
});
