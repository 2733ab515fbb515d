import { newId } from "@tenantry/schema";
import { tenants, users } from "@tenantry/schema/control";
import { eq } from "drizzle-orm";
import { z } from "zod";
import { controlDb } from "../db/control-db";
import { config, type Env } from "../env";
import { ConflictError } from "../errors";
import { hashPassword, verifyPassword } from "../lib/crypto";
import { linkStripeCustomer } from "./billing-customer";
import { issueEmailVerification } from "./email-verification";
import { type ProvisioningHooks, runProvisioning } from "./provisioning";
import { tenantUrl } from "./registry";
import { createSession, type TokenPair } from "./sessions";

/** Host labels a tenant may not take: they are, or may become, the platform's own. */
export const RESERVED_SLUGS = new Set([
  "admin",
  "api",
  "app",
  "assets",
  "auth",
  "billing",
  "blog",
  "cdn",
  "dashboard",
  "dev",
  "docs",
  "email",
  "ftp",
  "help",
  "internal",
  "localhost",
  "login",
  "mail",
  "ops",
  "root",
  "signup",
  "smtp",
  "staging",
  "static",
  "status",
  "stripe",
  "support",
  "system",
  "tenantry",
  "test",
  "webhooks",
  "www",
]);

export const SlugSchema = z
  .string()
  .min(3)
  .max(40)
  .regex(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/, "lowercase letters, digits and inner hyphens only");
export const EmailSchema = z
  .email()
  .max(254)
  .transform((e) => e.toLowerCase());
export const PasswordSchema = z.string().min(10).max(200);

export const SignupInputSchema = z.strictObject({
  organization_name: z.string().trim().min(1).max(100),
  slug: SlugSchema,
  email: EmailSchema,
  password: PasswordSchema,
});
export type SignupInput = z.infer<typeof SignupInputSchema>;

export type SlugAvailability =
  | { slug: string; available: true }
  | { slug: string; available: false; reason: "taken" | "reserved" | "invalid" };

export async function checkSlug(env: Env, slug: string): Promise<SlugAvailability> {
  if (!SlugSchema.safeParse(slug).success) return { slug, available: false, reason: "invalid" };
  if (RESERVED_SLUGS.has(slug)) return { slug, available: false, reason: "reserved" };
  const row = await controlDb(env)
    .select({ id: tenants.id })
    .from(tenants)
    .where(eq(tenants.slug, slug))
    .get();
  return row ? { slug, available: false, reason: "taken" } : { slug, available: true };
}

export interface SignupResult {
  tenant: { id: string; slug: string; url: string };
  user: { id: string; email: string };
  tokens: TokenPair;
}

/**
 * Creates a tenant and its owner. An existing identity may sign up another organisation with
 * its own password; anyone else gets 409 for that email.
 */
export async function signUp(
  env: Env,
  input: SignupInput,
  ctx: {
    requestId: string;
    ip: string | null;
    hooks?: ProvisioningHooks;
    /** Runs work after the response (the Stripe link); awaited inline when absent. */
    waitUntil?: (p: Promise<unknown>) => void;
  },
): Promise<SignupResult> {
  const availability = await checkSlug(env, input.slug);
  if (!availability.available) {
    if (availability.reason === "taken")
      throw new ConflictError("slug_taken", `The slug "${input.slug}" is taken.`);
    throw new ConflictError("slug_reserved", `The slug "${input.slug}" is reserved.`);
  }
  const existing = await controlDb(env)
    .select()
    .from(users)
    .where(eq(users.email, input.email))
    .get();
  if (existing && !(await verifyPassword(input.password, existing.passwordHash))) {
    throw new ConflictError(
      "email_taken",
      "An account with this email exists; sign up with its password.",
    );
  }
  const tenantId = newId("tenant");
  const owner = existing
    ? { id: existing.id, email: existing.email, passwordHash: existing.passwordHash, isNew: false }
    : {
        id: newId("user"),
        email: input.email,
        passwordHash: await hashPassword(input.password),
        isNew: true,
      };
  const tenant = await runProvisioning(env, tenantId, ctx, {
    registry: { tenantId, slug: input.slug, name: input.organization_name, owner, now: Date.now() },
    ...(ctx.hooks ? { hooks: ctx.hooks } : {}),
  });
  const link = linkStripeCustomer(env, tenant, owner.email);
  if (ctx.waitUntil) ctx.waitUntil(link);
  else await link;
  const sessionCtx = { env, tenant, requestId: ctx.requestId, ip: ctx.ip };
  const tokens = await createSession(sessionCtx, owner.id);
  if (!existing?.emailVerifiedAt) await issueEmailVerification(env, tenant, owner);
  return {
    tenant: { id: tenant.id, slug: tenant.slug, url: tenantUrl(config(env), tenant.slug) },
    user: { id: owner.id, email: owner.email },
    tokens,
  };
}
