/**
 * Tenant list and search: every query shape walks an index (checked with EXPLAIN QUERY PLAN, so
 * it stays fast at 100,000 tenants), and search, filters and cursors find what they should.
 */
import { env } from "cloudflare:workers";
import { readBilling, recordBillingChange } from "@tenantry/core";
import { describe, expect, it } from "vitest";
import { createTenant, setPastDue } from "../../../workers/api/test/helpers";
import {
  SEARCH_FIELDS,
  TenantListQuerySchema,
  tenantListStatement,
} from "../server/services/tenants";
import { adminFetch, operatorWithToken } from "./helpers";

async function queryPlan(input: Record<string, unknown>) {
  const { statement } = tenantListStatement(env, TenantListQuerySchema.parse(input));
  const { sql, params } = statement.toSQL();
  const { results } = await env.CONTROL_DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
    .bind(...params)
    .all<{ detail: string }>();
  return results.map((r) => r.detail);
}

const SAMPLE_Q: Record<(typeof SEARCH_FIELDS)[number], string> = {
  name: "Acme",
  slug: "acme",
  email: "owner@acme",
  stripe_customer: "cus_123",
};
const SEARCH_INDEX: Record<(typeof SEARCH_FIELDS)[number], string> = {
  name: "tenants_name_idx",
  slug: "tenants_slug_unique",
  email: "users_email_unique",
  stripe_customer: "tenants_stripe_customer_id_unique",
};
// A syntactically valid cursor of each kind (what the service hands out).
const cursorOf = (k: string | null) =>
  btoa(JSON.stringify([k, "ten_01"]))
    .replace(/=+$/, "")
    .replace(/\+/g, "-")
    .replace(/\//g, "_");

describe("tenant list query plans", () => {
  const filterSets = [
    {},
    { plan: "pro" },
    { status: "suspended" },
    { access: "grace" },
    { plan: "pro", status: "active", access: "full" },
  ];
  const searches = [undefined, ...SEARCH_FIELDS];
  for (const by of searches) {
    for (const filters of filterSets) {
      for (const paged of [false, true]) {
        const shape = { by: by ?? "none", ...filters, paged };
        it(`uses an index and no sort: ${JSON.stringify(shape)}`, async () => {
          const input = {
            ...filters,
            ...(by ? { q: SAMPLE_Q[by], by } : {}),
            ...(paged ? { cursor: cursorOf(by ? "acme" : null) } : {}),
          };
          const plan = await queryPlan(input);
          const text = plan.join("\n");
          // A full scan reads every tenant (or user); a temp B-tree sorts them all before LIMIT.
          for (const line of plan) {
            expect(line, text).not.toMatch(/^SCAN (tenants|users)(?! USING (COVERING )?INDEX)/);
          }
          expect(text).not.toMatch(/TEMP B-TREE/);
          // Searches and filters walk their own index, not the whole table in id order.
          if (by) expect(text).toContain(`USING INDEX ${SEARCH_INDEX[by]}`);
          else if (Object.keys(filters).length > 0)
            expect(text).toMatch(/^SEARCH tenants USING INDEX tenants_(plan|status|access)_idx/m);
          // The unfiltered first page walks the primary key newest first and stops after the page
          // (LIMIT with no sort); a full table scan would be a bare `SCAN tenants`.
          else
            expect(text).toMatch(/^(SCAN|SEARCH) tenants USING INDEX sqlite_autoindex_tenants_1/m);
        });
      }
    }
  }
});

describe("tenant list and search", () => {
  it("finds tenants by name (any case), slug and owner email prefix, and Stripe customer id", async () => {
    const op = await operatorWithToken("read_only");
    const tag = Math.random().toString(36).slice(2, 8);
    const a = await createTenant({ slug: `zeta-${tag}-a`, email: `zed-${tag}@a.example` });
    const b = await createTenant({ slug: `zeta-${tag}-b`, email: `zed-${tag}@b.example` });
    const list = async (qs: string) => {
      const res = await adminFetch(`/api/v1/tenants?${qs}`, { token: op.token });
      expect(res.status).toBe(200);
      return (await res.json()) as {
        data: { id: string; slug: string; owner_email: string }[];
        next_cursor: string | null;
        searched_by: string | null;
      };
    };
    const ids = (page: { data: { id: string }[] }) => page.data.map((t) => t.id).sort();
    const both = [a.tenant.id, b.tenant.id].sort();

    // Names are "Org <slug>": the name search folds case.
    const byName = await list(`q=ORG%20ZETA-${tag}`);
    expect(byName.searched_by).toBe("name");
    expect(ids(byName)).toEqual(both);
    expect(ids(await list(`q=zeta-${tag}-a&by=slug`))).toEqual([a.tenant.id]);
    const byEmail = await list(`q=zed-${tag}@`);
    expect(byEmail.searched_by).toBe("email");
    expect(ids(byEmail)).toEqual(both);
    expect(byEmail.data[0]!.owner_email).toBe(`zed-${tag}@a.example`);

    // A customer id of its own, whether or not sign-up has linked one yet.
    const customer = `cus_zeta${tag}`;
    await env.CONTROL_DB.prepare("UPDATE tenants SET stripe_customer_id = ? WHERE id = ?")
      .bind(customer, b.tenant.id)
      .run();
    const byCustomer = await list(`q=${customer}`);
    expect(byCustomer.searched_by).toBe("stripe_customer");
    expect(ids(byCustomer)).toEqual([b.tenant.id]);
    expect((await list(`q=zeta-${tag}-c&by=slug`)).data).toEqual([]);
  });

  it("filters by plan, status and access, and pages with a cursor without repeats", async () => {
    const op = await operatorWithToken("read_only");
    const tag = Math.random().toString(36).slice(2, 8);
    const made = [];
    for (let i = 0; i < 5; i++) made.push(await createTenant({ slug: `page-${tag}-${i}` }));
    await env.CONTROL_DB.prepare("UPDATE tenants SET status = 'suspended' WHERE id = ?")
      .bind(made[1]!.tenant.id)
      .run();

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const qs: string = `q=page-${tag}&by=slug&limit=2${cursor ? `&cursor=${cursor}` : ""}`;
      const res = await adminFetch(`/api/v1/tenants?${qs}`, { token: op.token });
      const page = (await res.json()) as { data: { slug: string }[]; next_cursor: string | null };
      seen.push(...page.data.map((t) => t.slug));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual(made.map((t) => t.slug));

    const filtered = await adminFetch(
      `/api/v1/tenants?q=page-${tag}&by=slug&status=suspended&plan=free&access=free_limits`,
      { token: op.token },
    );
    expect(((await filtered.json()) as { data: { id: string }[] }).data.map((t) => t.id)).toEqual([
      made[1]!.tenant.id,
    ]);

    // Newest first without a search, paged by id.
    const newest = await adminFetch("/api/v1/tenants?limit=2", { token: op.token });
    const first = (await newest.json()) as { data: { id: string }[]; next_cursor: string };
    const next = await adminFetch(`/api/v1/tenants?limit=2&cursor=${first.next_cursor}`, {
      token: op.token,
    });
    const second = (await next.json()) as { data: { id: string }[] };
    const order = [...first.data, ...second.data].map((t) => t.id);
    expect(order).toEqual([...order].sort().reverse());
    expect(new Set(order).size).toBe(4);
  });

  it("the access filter follows billing: the sync records grace, then read-only", async () => {
    const op = await operatorWithToken("read_only");
    const t = await createTenant();
    const access = async () => {
      const res = await adminFetch(`/api/v1/tenants?q=${t.slug}&by=slug`, { token: op.token });
      return ((await res.json()) as { data: { access: string }[] }).data[0]?.access;
    };
    expect(await access()).toBe("free_limits");
    const record = async () =>
      recordBillingChange(env, t.tenant, (await readBilling(env, t.tenant.id))!, {
        requestId: "test",
        ip: null,
      });
    await setPastDue(t, 1);
    await record();
    expect(await access()).toBe("grace");
    await env.CONTROL_DB.prepare("UPDATE subscriptions SET past_due_since = ? WHERE tenant_id = ?")
      .bind(Date.now() - 8 * 86_400_000, t.tenant.id)
      .run();
    await record();
    expect(await access()).toBe("read_only");
    const graceOnly = await adminFetch(`/api/v1/tenants?q=${t.slug}&by=slug&access=grace`, {
      token: op.token,
    });
    expect(((await graceOnly.json()) as { data: unknown[] }).data).toEqual([]);
  });

  it("pages through names beyond Latin-1 (the cursor carries the name)", async () => {
    const op = await operatorWithToken("read_only");
    const tag = Math.random().toString(36).slice(2, 8);
    const made = [];
    for (let i = 0; i < 3; i++) {
      const t = await createTenant({ slug: `uni-${tag}-${i}` });
      await env.CONTROL_DB.prepare("UPDATE tenants SET name = ? WHERE id = ?")
        .bind(`Ωmega ${tag} 株式会社 ${i}`, t.tenant.id)
        .run();
      made.push(t.tenant.id);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const qs: string = `q=${encodeURIComponent(`Ωmega ${tag}`)}&by=name&limit=1${cursor ? `&cursor=${cursor}` : ""}`;
      const res = await adminFetch(`/api/v1/tenants?${qs}`, { token: op.token });
      expect(res.status).toBe(200);
      const page = (await res.json()) as { data: { id: string }[]; next_cursor: string | null };
      seen.push(...page.data.map((t) => t.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual(made);
  });

  it("refuses a cursor it did not hand out", async () => {
    const op = await operatorWithToken("read_only");
    const res = await adminFetch("/api/v1/tenants?cursor=nonsense", { token: op.token });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "invalid_request" });
  });
});
