import {
  type AuditChainEnv,
  AuditSigningKeySchema,
  type BillingMessage,
  CoreConfigSchema,
  configReader,
} from "@tenantry/core";
import { z } from "zod";
import type { FleetMessage } from "./fleet-message";

/** The admin worker's bindings (apps/admin/wrangler.toml) and secrets. */
export interface AdminEnv extends AuditChainEnv {
  ENVIRONMENT?: string;
  BASE_DOMAIN?: string;
  PUBLIC_SCHEME?: string;
  OPERATOR_IDLE_MINUTES?: string;
  /** Cloudflare Access: the team domain (`https://<team>.cloudflareaccess.com`) and the app's AUD. */
  ACCESS_TEAM_DOMAIN?: string;
  ACCESS_AUD?: string;
  MAIL_QUEUE: Queue;
  /** The API worker's JWT_ISSUER (a var): support tokens carry it, the API accepts no other. */
  JWT_ISSUER: string;
  /** Secret: ES256 private JWK signing support tokens; the API has the public half. */
  SUPPORT_SIGNING_KEY?: string;
  /** Operators' billing re-syncs and replays, consumed by the webhooks worker. */
  BILLING_QUEUE: Queue<BillingMessage>;
  /** Fleet migration steps, consumed by this worker (server/fleet-queue.ts, ADR 014). */
  FLEET_QUEUE: Queue<FleetMessage>;
  /** Free pool databases at or below which the fleet page warns (as the API worker's). */
  POOL_LOW_WATER?: string;
}

export const AdminConfigSchema = CoreConfigSchema.extend({
  ENVIRONMENT: z.enum(["production", "development", "test"]).default("production"),
  BASE_DOMAIN: z.string().min(1),
  PUBLIC_SCHEME: z.enum(["http", "https"]).default("https"),
  OPERATOR_IDLE_MINUTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(30),
  ACCESS_TEAM_DOMAIN: z.url().optional(),
  ACCESS_AUD: z.string().min(1).optional(),
  JWT_ISSUER: z.string().min(1),
  SUPPORT_SIGNING_KEY: z.string().min(1).optional(),
  /** Checks the audit logs' signed checkpoints (the API worker's secret of the same name). */
  AUDIT_SIGNING_KEY: AuditSigningKeySchema,
  POOL_LOW_WATER: z.coerce.number().int().min(0).optional(),
}).superRefine((cfg, issues) => {
  if (Boolean(cfg.ACCESS_TEAM_DOMAIN) !== Boolean(cfg.ACCESS_AUD)) {
    issues.addIssue({
      code: "custom",
      path: ["ACCESS_AUD"],
      message: "set both ACCESS_TEAM_DOMAIN and ACCESS_AUD, or neither",
    });
  }
  // Password accounts are for development and tests: in production, Cloudflare Access (with its
  // identity provider's second factor) is the only way onto the admin host.
  if (cfg.ENVIRONMENT === "production" && !cfg.ACCESS_AUD) {
    issues.addIssue({
      code: "custom",
      path: ["ACCESS_TEAM_DOMAIN"],
      message:
        "production serves the admin host only behind Cloudflare Access: set ACCESS_TEAM_DOMAIN and ACCESS_AUD (ENVIRONMENT=development for local password accounts)",
    });
  }
});
export type AdminConfig = z.infer<typeof AdminConfigSchema>;

export const adminConfig: (env: AdminEnv) => AdminConfig = configReader(AdminConfigSchema);
