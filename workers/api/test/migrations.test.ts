/** Fleet migrations: every provisioned tenant database, idempotent, resumable, per-tenant results. */

import { env } from "cloudflare:workers";
import { TENANT_MIGRATIONS } from "@tenantry/schema/tenant-migrations";
import { describe, expect, it } from "vitest";
import { migrateTenantDatabases } from "../src/services/fleet-migrations";
import { createTenant, tenantD1 } from "./helpers";

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
