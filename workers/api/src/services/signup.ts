import { hashPassword } from "@tenantry/core/crypto";
import { newId } from "@tenantry/schema";
import { tenants, users } from "@tenantry/schema/control";
import { eq } from "drizzle-orm";
import { z } from "zod";
import type { RequestContext } from "../context";
import { controlDb } from "../db/control-db";
import { config, type Env } from "../env";
import { ConflictError, ValidationError } from "../errors";
import { signPurposeToken, verifyPurposeToken } from "../lib/jwt";
import { linkStripeCustomer } from "./billing-customer";
import { issueEmailVerification } from "./email-verification";
import { mailer } from "./mailer";
import { type ProvisioningHooks, runProvisioning } from "./provisioning";
import { tenantUrl } from "./registry";
import { createSession, type TokenPair } from "./sessions";
import { signUpBudgets } from "./signup-throttle";
import { takeAttempt } from "./throttle";

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
  status: "created";
  tenant: { id: string; slug: string; url: string };
  user: { id: string; email: string };
  tokens: TokenPair;
}

/** The confirmation link for an existing identity lives this long. */
export const SIGNUP_CONFIRMATION_TTL_SECONDS = 3600;
const SIGNUP_PURPOSE = "signup";
const SignupClaimsSchema = z.object({ email: z.string(), slug: z.string(), name: z.string() });

type SignupCtx = RequestContext & {
  hooks?: ProvisioningHooks;
  /** Runs work after the response (the Stripe link); awaited inline when absent. */
  waitUntil?: (p: Promise<unknown>) => void;
};

/**
 * Creates a tenant and its owner. For an email that already has an account the password is not
 * checked at all (sign-up would otherwise be a password oracle): the account's address gets a
 * link that creates the organisation when followed (`confirmSignUp`), and the answer says only
 * that a mail was sent. Throttled per client and per email domain before any work (see
 * `signUpBudgets`): each sign-up takes a database from the pool, and each confirmation a mail.
 */
export async function signUp({
  ctx,
  input,
}: {
  ctx: SignupCtx;
  input: SignupInput;
}): Promise<SignupResult | { status: "confirmation_sent" }> {
  const { env } = ctx;
  await takeAttempt(
    env,
    signUpBudgets(config(env), input.email, ctx.ip),
    "Too many sign-ups from this address or email domain. Try again later.",
  );
  await assertSlugAvailable(env, input.slug);
  const existing = await controlDb(env)
    .select()
    .from(users)
    .where(eq(users.email, input.email))
    .get();
  if (existing) {
    await mailSignupConfirmation(env, input);
    return { status: "confirmation_sent" };
  }
  const owner = {
    id: newId("user"),
    email: input.email,
    passwordHash: await hashPassword(input.password),
    isNew: true,
  };
  return createOrganisation(env, { slug: input.slug, name: input.organization_name }, owner, ctx);
}

async function assertSlugAvailable(env: Env, slug: string) {
  const availability = await checkSlug(env, slug);
  if (availability.available) return;
  if (availability.reason === "taken")
    throw new ConflictError("slug_taken", `The slug "${slug}" is taken.`);
  throw new ConflictError("slug_reserved", `The slug "${slug}" is reserved.`);
}

async function mailSignupConfirmation(env: Env, input: SignupInput) {
  const cfg = config(env);
  const token = await signPurposeToken(
    cfg,
    SIGNUP_PURPOSE,
    { email: input.email, slug: input.slug, name: input.organization_name },
    SIGNUP_CONFIRMATION_TTL_SECONDS,
  );
  const link = `${cfg.PUBLIC_SCHEME}://${cfg.BASE_DOMAIN}/signup/confirm?token=${encodeURIComponent(token)}`;
  await mailer(env).send({
    to: input.email,
    tenantId: null,
    subject: `Confirm your new organisation ${input.organization_name} on Tenantry`,
    text: `Someone asked to create the organisation "${input.organization_name}" (${input.slug}) with this address, which already has a Tenantry account.\n\nTo create it, follow this link within an hour:\n${link}\n\nIf it wasn't you, ignore this message: nothing was created.`,
  });
}

/** Follows the mailed link: the organisation is created, owned by the existing account. */
export async function confirmSignUp({
  ctx,
  input: { token },
}: {
  ctx: SignupCtx;
  input: { token: string };
}): Promise<SignupResult> {
  const { env } = ctx;
  const claims = await verifyPurposeToken(config(env), SIGNUP_PURPOSE, token, SignupClaimsSchema);
  if (!claims) throw new ValidationError("The confirmation link is invalid or expired.");
  // Single use: once the organisation exists its slug is taken.
  await assertSlugAvailable(env, claims.slug);
  const existing = await controlDb(env)
    .select()
    .from(users)
    .where(eq(users.email, claims.email))
    .get();
  if (!existing) throw new ValidationError("The confirmation link is invalid or expired.");
  return createOrganisation(
    env,
    { slug: claims.slug, name: claims.name },
    { id: existing.id, email: existing.email, passwordHash: existing.passwordHash, isNew: false },
    ctx,
    existing.emailVerifiedAt !== null,
  );
}

async function createOrganisation(
  env: Env,
  org: { slug: string; name: string },
  owner: { id: string; email: string; passwordHash: string; isNew: boolean },
  ctx: SignupCtx,
  verified = false,
): Promise<SignupResult> {
  const tenantId = newId("tenant");
  const tenant = await runProvisioning(env, tenantId, ctx, {
    registry: { tenantId, slug: org.slug, name: org.name, owner, now: Date.now() },
    ...(ctx.hooks ? { hooks: ctx.hooks } : {}),
  });
  const link = linkStripeCustomer(env, tenant, owner.email);
  if (ctx.waitUntil) ctx.waitUntil(link);
  else await link;
  const sessionCtx = { env, tenant, requestId: ctx.requestId, ip: ctx.ip };
  const tokens = await createSession({ ctx: sessionCtx, input: { userId: owner.id } });
  if (!verified) await issueEmailVerification(env, tenant, owner);
  return {
    status: "created",
    tenant: { id: tenant.id, slug: tenant.slug, url: tenantUrl(config(env), tenant.slug) },
    user: { id: owner.id, email: owner.email },
    tokens,
  };
}
