// EXAMPLE PRODUCT: everything the product adds to the platform, declared in one place. The
// platform reads it only through `../platform.ts`; a fork replaces this module's entries with its
// own (see README.md here). The product's tables and id prefixes live in the schema package, in
// `schema/src/tenant/product/`, because migrations and `newId()` are built there.
import type { LimitKey } from "@tenantry/plans";
import { projects } from "@tenantry/schema/tenant";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";
import { productRoutes } from "./routes";

// The product's audit actions (`entity.verb`), added to core's closed list.
declare module "@tenantry/core" {
  interface ProductAuditActions {
    "project.create": true;
    "project.update": true;
    "project.delete": true;
    "task.create": true;
    "task.update": true;
    "task.delete": true;
  }
}

export const product = {
  /** Mounted on the API worker's app after the platform's routes. */
  routes: productRoutes,
  /**
   * Plan limits the product's rows count against (a gauge of the tenant's meter each, named as
   * in the plan catalog's `LIMITS`), and the tenant table whose rows (per `tenant_id`) are its
   * value when the meter re-derives it.
   */
  gauges: { projects } satisfies Partial<Record<LimitKey, SQLiteTable>>,
};
