import { auditEntry } from "@tenantry/core";
import { branding } from "@tenantry/schema/tenant";
import { eq } from "drizzle-orm";
import type { ServiceContext } from "../context";
import type { Env } from "../env";
import { NotFoundError, UnsupportedMediaTypeError } from "../errors";
import { readBranding } from "./settings";

/** Logos are small: a header image, not a photo. The route's body limit is this too. */
export const MAX_LOGO_BYTES = 256 * 1024;

/** Everything a tenant has in the bucket; removed with the tenant (`removeTenantObjects`). */
const tenantPrefix = (tenantId: string) => `tenants/${tenantId}/`;

/**
 * The only place a logo's key is made: from the tenant of the request (ADR 020, isolation rule 4),
 * never from input, so no request can name another tenant's object.
 */
function logoKey(ctx: Pick<ServiceContext, "tenant">): string {
  return `${tenantPrefix(ctx.tenant.id)}logo`;
}

/** Deletes a removed tenant's objects (the reclaim job): nothing of it outlives its database. */
export async function removeTenantObjects(env: Env, tenantId: string): Promise<void> {
  for (;;) {
    const page = await env.BRANDING.list({ prefix: tenantPrefix(tenantId), limit: 1000 });
    if (page.objects.length === 0) return;
    await env.BRANDING.delete(page.objects.map((o) => o.key));
  }
}

const startsWith = (bytes: Uint8Array, sig: number[], at = 0) =>
  sig.every((b, i) => bytes[at + i] === b);
const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));

/**
 * The image type from the bytes themselves, never from the client's Content-Type. Only raster
 * formats a browser cannot run anything from: SVG is refused (it can carry scripts).
 */
export function sniffLogo(bytes: Uint8Array): "image/png" | "image/jpeg" | "image/webp" {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "image/png";
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return "image/jpeg";
  if (startsWith(bytes, ascii("RIFF")) && startsWith(bytes, ascii("WEBP"), 8)) return "image/webp";
  const head = new TextDecoder().decode(bytes.subarray(0, 1024)).toLowerCase();
  if (head.includes("<svg") || head.trimStart().startsWith("<")) {
    throw new UnsupportedMediaTypeError(
      "logo_svg_refused",
      "SVG logos are refused: an SVG can carry scripts. Upload a PNG, JPEG or WebP image.",
    );
  }
  throw new UnsupportedMediaTypeError(
    "logo_type_unsupported",
    "The logo must be a PNG, JPEG or WebP image (checked by its content, not its name).",
  );
}

/** Stores the tenant's logo (replacing any) and records it, audited. */
export async function putLogo({ ctx, input }: { ctx: ServiceContext; input: Uint8Array }) {
  if (input.byteLength === 0) {
    throw new UnsupportedMediaTypeError("logo_empty", "The logo file is empty.");
  }
  const type = sniffLogo(input);
  const before = await readBranding(ctx);
  await ctx.env.BRANDING.put(logoKey(ctx), input, { httpMetadata: { contentType: type } });
  const now = Date.now();
  const logo = { logoType: type, logoSize: input.byteLength, logoUpdatedAt: now, updatedAt: now };
  await ctx.db.orm.batch([
    ctx.db.orm
      .insert(branding)
      .values({ tenantId: ctx.tenant.id, ...logo })
      .onConflictDoUpdate({ target: branding.tenantId, set: logo }),
    auditEntry(ctx, {
      action: "branding.update",
      target: { type: "tenant", id: ctx.tenant.id },
      before: { logo: before?.logoType ? { type: before.logoType, size: before.logoSize } : null },
      after: { logo: { type, size: input.byteLength } },
    }),
  ]);
  return { content_type: type, size: input.byteLength, updated_at: new Date(now).toISOString() };
}

/** Removes the tenant's logo; the app falls back to the name alone. */
export async function deleteLogo({ ctx }: { ctx: ServiceContext }) {
  const before = await readBranding(ctx);
  if (!before?.logoType) throw new NotFoundError("logo");
  await ctx.env.BRANDING.delete(logoKey(ctx));
  const cleared = { logoType: null, logoSize: null, logoUpdatedAt: null, updatedAt: Date.now() };
  await ctx.db.orm.batch([
    ctx.db.orm.update(branding).set(cleared).where(eq(branding.tenantId, ctx.tenant.id)),
    auditEntry(ctx, {
      action: "branding.update",
      target: { type: "tenant", id: ctx.tenant.id },
      before: { logo: { type: before.logoType, size: before.logoSize } },
      after: { logo: null },
    }),
  ]);
}

/** The tenant's logo object, or 404. */
export async function getLogo({ ctx }: { ctx: ServiceContext }) {
  const object = await ctx.env.BRANDING.get(logoKey(ctx));
  if (!object) throw new NotFoundError("logo");
  return object;
}
