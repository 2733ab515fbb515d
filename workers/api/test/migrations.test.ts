/** Fleet migrations: every provisioned tenant database, idempotent, resumable, per-tenant results. */

import { env } from "cloudflare:workers";
import { TENANT_MIGRATIONS } from "@tenantry/schema/tenant-migrations";
import { describe, expect, it } from "vitest";
import { migrateTenantDatabases } from "../src/services/fleet-migrations";
import { api, createTenant, tenantD1 } from "./helpers";

const extra = {
  name: "9999_test_add_column",
  queries: ["ALTER TABLE projects ADD COLUMN archived_at integer"],
};

describe("migrateTenantDatabases", () => {
  it("applies pending migrations to every tenant once, records versions, and is idempotent", async () => {
    const tenants = [await createTenant(), await createTenant(), await createTenant()];
    const migrations = [...TENANT_MIGRATIONS, extra];
    const first = await migrateTenantDatabases(env, { migrations });
    const mine = first.filter((r) => tenants.some((t) => t.tenant.id === r.tenant_id));
    expect(mine).toHaveLength(3);
    for (const r of mine) {
      expect(r).toMatchObject({
        from: TENANT_MIGRATIONS.length,
        to: migrations.length,
        applied: [extra.name],
      });
      expect(r.error).toBeUndefined();
    }
    for (const t of tenants) {
      const cols = await tenantD1(t)
        .prepare("SELECT name FROM pragma_table_info('projects')")
        .all<{ name: string }>();
      expect(cols.results.map((c) => c.name)).toContain("archived_at");
      const row = await env.CONTROL_DB.prepare("SELECT schema_version FROM tenants WHERE id = ?")
        .bind(t.tenant.id)
        .first();
      expect(row).toEqual({ schema_version: migrations.length });
    }
    expect(await migrateTenantDatabases(env, { migrations })).toEqual([]);
  });

  it("reports a failing tenant, migrates the others, and finishes it on the next run", async () => {
    const [ok, broken] = [await createTenant(), await createTenant()];
    const migrations = [
      ...TENANT_MIGRATIONS,
      { name: "9998_test_index", queries: ["CREATE INDEX projects_name_idx ON projects (name)"] },
    ];
    // Make one tenant's database refuse the migration.
    await tenantD1(broken).prepare("CREATE INDEX projects_name_idx ON tasks (title)").run();
    const results = await migrateTenantDatabases(env, { migrations });
    const byId = new Map(results.map((r) => [r.tenant_id, r]));
    expect(byId.get(ok.tenant.id)).toMatchObject({ applied: ["9998_test_index"] });
    expect(byId.get(broken.tenant.id)!.error).toContain("projects_name_idx");
    expect(byId.get(broken.tenant.id)!.to).toBe(TENANT_MIGRATIONS.length);

    await tenantD1(broken).prepare("DROP INDEX projects_name_idx").run();
    const rerun = await migrateTenantDatabases(env, { migrations });
    expect(rerun.map((r) => r.tenant_id)).toEqual([broken.tenant.id]);
    expect(rerun[0]).toMatchObject({ applied: ["9998_test_index"], to: migrations.length });
  });
});

describe("a tenant behind the deployed code", () => {
  /**
   * Undoes the newest tenant migration on one tenant: the tables it creates, the columns it adds,
   * its bookkeeping row and the registry's version.
   */
  async function setBack(t: Awaited<ReturnType<typeof createTenant>>) {
    const newest = TENANT_MIGRATIONS.at(-1)!;
    const db = tenantD1(t);
    const created = newest.queries
      .map((q) => q.match(/^CREATE TABLE [`"]?(\w+)/)?.[1])
      .filter((name): name is string => Boolean(name));
    const added = newest.queries
      .map((q) => q.match(/^ALTER TABLE [`"]?(\w+)[`"]? ADD [`"]?(\w+)/))
      .filter((m): m is RegExpMatchArray => m !== null);
    expect(created.length + added.length).toBeGreaterThan(0);
    await db.batch([
      ...created.map((name) => db.prepare(`DROP TABLE ${name}`)),
      ...added.map(([, table, column]) => db.prepare(`ALTER TABLE ${table} DROP COLUMN ${column}`)),
      db.prepare("DELETE FROM _tenant_migrations WHERE name = ?").bind(newest.name),
    ]);
    await env.CONTROL_DB.prepare("UPDATE tenants SET schema_version = ? WHERE id = ?")
      .bind(TENANT_MIGRATIONS.length - 1, t.tenant.id)
      .run();
    return created;
  }

  it("is caught up by its first requests, sent in parallel, before they are served", async () => {
    const t = await createTenant();
    const tables = await setBack(t);
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => api("GET", "/v1/me", { slug: t.slug, token: t.owner.token })),
    );
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    const present = await tenantD1(t)
      .prepare(
        `SELECT name FROM sqlite_master WHERE type = 'table' AND name IN (${tables.map(() => "?").join(",")})`,
      )
      .bind(...tables)
      .all<{ name: string }>();
    expect(present.results.map((r) => r.name).sort()).toEqual([...tables].sort());
    const row = await env.CONTROL_DB.prepare("SELECT schema_version FROM tenants WHERE id = ?")
      .bind(t.tenant.id)
      .first();
    expect(row).toEqual({ schema_version: TENANT_MIGRATIONS.length });
  });

  it("is caught up by the fleet run (the cron's) when no request comes first", async () => {
    const t = await createTenant();
    await setBack(t);
    const results = await migrateTenantDatabases(env);
    expect(results.find((r) => r.tenant_id === t.tenant.id)).toMatchObject({
      applied: [TENANT_MIGRATIONS.at(-1)!.name],
      to: TENANT_MIGRATIONS.length,
    });
  });
});
