import { auditEntry } from "@tenantry/core";
import { tenants } from "@tenantry/schema/control";
import { branding } from "@tenantry/schema/tenant";
import { and, eq } from "drizzle-orm";
import type { ServiceContext } from "../context";
import { controlDb } from "../db/control-db";
import { ConflictError, ValidationError } from "../errors";
import { contrastWithWhite, MIN_CONTRAST } from "../lib/contrast";
import { forgetTenant } from "./registry";

type BrandingRow = typeof branding.$inferSelect;

export async function readBranding(
  ctx: Pick<ServiceContext, "db" | "tenant">,
): Promise<BrandingRow | null> {
  return (
    (await ctx.db.orm.select().from(branding).where(eq(branding.tenantId, ctx.tenant.id)).get()) ??
    null
  );
}

export function brandingView(row: BrandingRow | null) {
  return {
    accent_color: row?.accentColor ?? null,
    logo:
      row?.logoType && row.logoUpdatedAt
        ? {
            content_type: row.logoType,
            size: row.logoSize ?? 0,
            updated_at: new Date(row.logoUpdatedAt).toISOString(),
          }
        : null,
  };
}

/** The organisation's name (from the registry) and its branding (from its own database). */
export async function getSettings({ ctx }: { ctx: ServiceContext }) {
  return { name: ctx.tenant.name, ...brandingView(await readBranding(ctx)) };
}

export interface SettingsChange {
  name?: string | undefined;
  accent_color?: string | null | undefined;
}

/** Changes the name, the accent colour or both; each change is audited on its own. */
export async function updateSettings({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: SettingsChange;
}) {
  if (input.accent_color !== undefined) await setAccentColor(ctx, input.accent_color);
  if (input.name !== undefined) await renameTenant(ctx, input.name);
  return getSettings({
    ctx: { ...ctx, tenant: { ...ctx.tenant, name: input.name ?? ctx.tenant.name } },
  });
}

async function setAccentColor(ctx: ServiceContext, color: string | null) {
  const accent = color?.toLowerCase() ?? null;
  if (accent) {
    const ratio = contrastWithWhite(accent);
    if (ratio < MIN_CONTRAST) {
      const detail = `The accent colour ${accent} has a contrast of ${ratio.toFixed(2)}:1 against white text; at least ${MIN_CONTRAST}:1 is needed so text on it stays readable. Choose a darker colour.`;
      throw new ValidationError(detail, [{ path: "body.accent_color", message: detail }]);
    }
  }
  const before = await readBranding(ctx);
  if ((before?.accentColor ?? null) === accent) return;
  const now = Date.now();
  await ctx.db.orm.batch([
    ctx.db.orm
      .insert(branding)
      .values({ tenantId: ctx.tenant.id, accentColor: accent, updatedAt: now })
      .onConflictDoUpdate({
        target: branding.tenantId,
        set: { accentColor: accent, updatedAt: now },
      }),
    auditEntry(ctx, {
      action: "branding.update",
      target: { type: "tenant", id: ctx.tenant.id },
      before: { accent_color: before?.accentColor ?? null },
      after: { accent_color: accent },
    }),
  ]);
}

/**
 * The name lives in the registry (control plane), the audit entry in the tenant's database: two
 * databases, so no one batch. The rename is conditional on the name it replaces (a concurrent
 * rename makes it a 409, not a lost update), and undone if its audit entry cannot be written, so
 * no rename goes unaudited.
 */
async function renameTenant(ctx: ServiceContext, name: string) {
  const control = controlDb(ctx.env);
  const current = await control
    .select({ name: tenants.name })
    .from(tenants)
    .where(eq(tenants.id, ctx.tenant.id))
    .get();
  if (!current || current.name === name) return;
  const renamed = await control
    .update(tenants)
    .set({ name, updatedAt: Date.now() })
    .where(and(eq(tenants.id, ctx.tenant.id), eq(tenants.name, current.name)))
    .returning({ id: tenants.id });
  if (renamed.length === 0) {
    throw new ConflictError(
      "concurrent_rename",
      "The organisation was renamed meanwhile; reload and retry.",
    );
  }
  forgetTenant(ctx.tenant.slug);
  try {
    await auditEntry(ctx, {
      action: "tenant.rename",
      target: { type: "tenant", id: ctx.tenant.id },
      before: { name: current.name },
      after: { name },
    });
  } catch (err) {
    await control
      .update(tenants)
      .set({ name: current.name, updatedAt: Date.now() })
      .where(and(eq(tenants.id, ctx.tenant.id), eq(tenants.name, name)));
    forgetTenant(ctx.tenant.slug);
    throw err;
  }
}
