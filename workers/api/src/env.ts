import {
  type AuditChainEnv,
  AuditSigningKeySchema,
  CoreConfigSchema,
  configReader,
  type MeterNamespace,
} from "@tenantry/core";
import { z } from "zod";

/** Bindings of the API worker, as wrangler.toml declares them. Tenant pool bindings are dynamic. */
export interface Env extends AuditChainEnv {
  ENVIRONMENT: string;
  BASE_DOMAIN: string;
  PUBLIC_SCHEME: string;
  JWT_ISSUER: string;
  JWT_AUDIENCE: string;
  JWT_PRIVATE_KEY: string;
  SUPPORT_VERIFY_KEY?: string;
  REGISTRY_CACHE_TTL_SECONDS: string;
  SESSION_CACHE_TTL_SECONDS?: string;
  API_KEY_CACHE_TTL_SECONDS?: string;
  MAILER?: string;
  MAIL_FROM?: string;
  MAIL_API_TOKEN?: string;
  MAIL_API_BASE?: string;
  MAIL_QUEUE: Queue<import("./services/mail-message").MailMessage>;
  /** Typed by the meter's contract (`@tenantry/core`), so this module imports no meter code. */
  TENANT_METER: MeterNamespace;
  USAGE_QUEUE: Queue<import("@tenantry/core").UsageMessage>;
  METERING?: string;
  /** Tenant logos, under `tenants/<tenant id>/` (ADR 020). */
  BRANDING: R2Bucket;
  METER_FLUSH_SECONDS?: string;
  SIGNUP_LIMIT_PER_CLIENT?: string;
  SIGNUP_LIMIT_PER_DOMAIN?: string;
  UNVERIFIED_TENANT_TTL_DAYS?: string;
  POOL_LOW_WATER?: string;
  HEALTH_TOKEN?: string;
  SSO_ENCRYPTION_KEY?: string;
  SSO_DNS_RESOLVER?: string;
}

/** Production defaults of the sign-up throttle (per hour). */
export const SIGNUP_LIMIT_DEFAULTS = { client: 5, domain: 20 } as const;

export const ConfigSchema = CoreConfigSchema.extend({
  ENVIRONMENT: z.enum(["development", "test", "production"]),
  /** Tenants live at `<slug>.<BASE_DOMAIN>`; the apex serves sign-up. */
  BASE_DOMAIN: z.string().min(1).toLowerCase(),
  PUBLIC_SCHEME: z.enum(["http", "https"]).default("https"),
  JWT_ISSUER: z.string().min(1),
  JWT_AUDIENCE: z.string().min(1),
  /** ES256 private key as a JWK (JSON). The public key is derived from it. */
  JWT_PRIVATE_KEY: z.string().min(1, "JWT_PRIVATE_KEY is not set: see .dev.vars.example"),
  /**
   * ES256 public key (JWK JSON) of the admin worker's SUPPORT_SIGNING_KEY: support tokens verify
   * against it. Without it no support token is accepted.
   */
  SUPPORT_VERIFY_KEY: z.string().min(1).optional(),
  /**
   * EC P-256 private JWK (JSON, with a `kid`) that signs audit checkpoints (ADR 012); the public
   * key is published at /.well-known/audit-keys.
   */
  AUDIT_SIGNING_KEY: AuditSigningKeySchema,
  /** Per-isolate registry cache; at most 30 s so suspensions take effect quickly. */
  REGISTRY_CACHE_TTL_SECONDS: z.coerce.number().int().min(0).max(30).default(30),
  /** Per-isolate cache of verified sessions; revocations reach other isolates within it. */
  SESSION_CACHE_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .max(10)
    .default(SIGNUP_LIMIT_DEFAULTS.client),
  /** Per-isolate cache of API key records; a revocation reaches other isolates within it. */
  API_KEY_CACHE_TTL_SECONDS: z.coerce.number().int().min(0).max(10).default(5),
  /** Who delivers mail: `resend` (ADR 006), or the development `outbox` (never in production). */
  MAILER: z.enum(["outbox", "resend"]).optional(),
  /** The sender, e.g. `Tenantry <no-reply@example.com>`, on a domain verified at the provider. */
  MAIL_FROM: z.string().min(3).optional(),
  /** The provider's API key (a secret). */
  MAIL_API_TOKEN: z.string().min(1).optional(),
  /** The provider's API; tests point it at a recording server. */
  MAIL_API_BASE: z.url().default("https://api.resend.com"),
  /** `off` skips the per-request meter (quotas, rate limits, RateLimit headers): benchmarks only. */
  METERING: z.enum(["on", "off"]).default("on"),
  /** How often each tenant's meter flushes pending usage to the USAGE queue. */
  METER_FLUSH_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
  /** Sign-ups per client address per hour (raised only where all sign-ups come from one machine). */
  SIGNUP_LIMIT_PER_CLIENT: z.coerce.number().int().min(1).default(5),
  /** Sign-ups per email domain (consumer mail: per address) per hour. */
  SIGNUP_LIMIT_PER_DOMAIN: z.coerce.number().int().min(1).default(SIGNUP_LIMIT_DEFAULTS.domain),
  /** Tenants whose owner has not verified their email this many days after sign-up are reclaimed. */
  UNVERIFIED_TENANT_TTL_DAYS: z.coerce.number().int().min(1).max(365).default(7),
  /** Free pool databases at or below which operators are warned; default 10% of the pool, min 2. */
  POOL_LOW_WATER: z.coerce.number().int().min(0).optional(),
  /** Bearer token for GET /healthz/detail; without it the route is closed in production. */
  HEALTH_TOKEN: z.string().min(16).optional(),
  /** 32 random bytes, base64url: seals SSO client secrets at rest (required in production). */
  SSO_ENCRYPTION_KEY: z
    .string()
    .regex(/^[A-Za-z0-9_-]{43}$/, "must be 32 bytes, base64url")
    .optional(),
  /** DNS-over-HTTPS (JSON API) that verifies SSO domains' TXT records. */
  SSO_DNS_RESOLVER: z.url().default("https://cloudflare-dns.com/dns-query"),
})
  .superRefine((cfg, ctx) => {
    const development = cfg.ENVIRONMENT !== "production";
    if (!development && (cfg.MAILER ?? "outbox") === "outbox") {
      ctx.addIssue({
        code: "custom",
        path: ["MAILER"],
        message: `MAILER is ${cfg.MAILER ? '"outbox"' : "not set"} with ENVIRONMENT=${cfg.ENVIRONMENT}: the development outbox sends nothing. Set MAILER=resend with MAIL_FROM and the MAIL_API_TOKEN secret (README, Configuration).`,
      });
    }
    if (!development && !cfg.SSO_ENCRYPTION_KEY) {
      ctx.addIssue({
        code: "custom",
        path: ["SSO_ENCRYPTION_KEY"],
        message:
          "SSO_ENCRYPTION_KEY is not set: SSO client secrets cannot be sealed. Set the secret (32 random bytes, base64url; README, Configuration).",
      });
    }
    if (cfg.MAILER === "resend") {
      for (const name of ["MAIL_FROM", "MAIL_API_TOKEN"] as const) {
        if (!cfg[name]) {
          ctx.addIssue({
            code: "custom",
            path: [name],
            message: `${name} is not set: MAILER=resend needs it`,
          });
        }
      }
    }
  })
  // Development and test default to the outbox; elsewhere the check above refused it.
  .transform((cfg) => ({ ...cfg, MAILER: cfg.MAILER ?? "outbox" }));
export type Config = z.infer<typeof ConfigSchema>;

/** Parsed once per env object; a bad config fails loudly on the first request. */
export const config: (env: Env) => Config = configReader(ConfigSchema);
