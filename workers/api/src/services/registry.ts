import { tenants } from "@tenantry/schema/control";
import { eq } from "drizzle-orm";
import { controlDb } from "../db/control-db";
import { type Config, config, type Env } from "../env";

export type TenantRow = typeof tenants.$inferSelect;

/**
 * Per-isolate cache of active registry rows, at most 30 s old (REGISTRY_CACHE_TTL_SECONDS).
 * Only `active` rows are cached, so a new tenant is visible at once; a suspension takes effect
 * within the TTL. It is an optimisation: correctness never depends on it.
 */
const cache = new Map<string, { row: TenantRow; expires: number }>();
const CACHE_LIMIT = 10_000;

export async function findTenantBySlug(env: Env, slug: string): Promise<TenantRow | null> {
  const ttl = config(env).REGISTRY_CACHE_TTL_SECONDS * 1000;
  const now = Date.now();
  const hit = cache.get(slug);
  if (hit && hit.expires > now) return hit.row;
  const row =
    (await controlDb(env).select().from(tenants).where(eq(tenants.slug, slug)).get()) ?? null;
  if (row?.status === "active" && ttl > 0) {
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(slug, { row, expires: now + ttl });
  } else {
    cache.delete(slug);
  }
  return row;
}

/** Drops this isolate's cached row after a change (a rename); other isolates follow within the TTL. */
export function forgetTenant(slug: string): void {
  cache.delete(slug);
}

export type HostTarget = { kind: "apex" } | { kind: "tenant"; slug: string } | { kind: "unknown" };

/** `acme.<BASE_DOMAIN>` → tenant `acme`; `<BASE_DOMAIN>` → apex; anything else → unknown. */
export function classifyHost(cfg: Config, host: string): HostTarget {
  const h = host.toLowerCase().replace(/\.$/, "");
  if (h === cfg.BASE_DOMAIN) return { kind: "apex" };
  const suffix = `.${cfg.BASE_DOMAIN}`;
  if (h.endsWith(suffix)) {
    const slug = h.slice(0, -suffix.length);
    if (/^[a-z0-9-]+$/.test(slug)) return { kind: "tenant", slug };
  }
  return { kind: "unknown" };
}

export function tenantUrl(cfg: Config, slug: string): string {
  return `${cfg.PUBLIC_SCHEME}://${slug}.${cfg.BASE_DOMAIN}`;
}

export async function findTenantById(env: Env, id: string): Promise<TenantRow | null> {
  return (await controlDb(env).select().from(tenants).where(eq(tenants.id, id)).get()) ?? null;
}
