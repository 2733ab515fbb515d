import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { tenantId } from "../columns";

/**
 * The tenant's branding: one row per tenant database (keyed by the tenant id), absent until the
 * first change. The organisation's name is not here: the registry (control plane) holds it, since
 * sign-in and the operator console read it without opening the tenant's database. The logo's
 * bytes live in R2 (`tenants/<tenant id>/logo`); this row records what was stored and when, which
 * also versions the logo's URL.
 */
export const branding = sqliteTable("branding", {
  tenantId: tenantId().primaryKey(),
  /** `#rrggbb`, checked for contrast against white text; null: the app's default. */
  accentColor: text("accent_color"),
  /** The logo's type as its magic bytes said (`image/png`, `image/jpeg`, `image/webp`). */
  logoType: text("logo_type"),
  logoSize: integer("logo_size"),
  logoUpdatedAt: integer("logo_updated_at"),
  updatedAt: integer("updated_at").notNull(),
});
