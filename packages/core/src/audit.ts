import { newId } from "@tenantry/schema";
import { auditLog } from "@tenantry/schema/tenant";
import type { SQL } from "drizzle-orm";
import { insertWhere } from "./conditional";
import type { TenantDb } from "./tenant-db";

/** The platform's closed list of audit actions (`entity.verb`). */
export const AUDIT_ACTIONS = [
  "tenant.create",
  "tenant.rename",
  "branding.update",
  "member.join",
  "member.update",
  "member.role_change",
  "member.remove",
  "invitation.create",
  "invitation.revoke",
  "invitation.accept",
  "api_key.create",
  "api_key.revoke",
  "session.create",
  "session.revoke",
  "session.verify_mfa",
  "mfa.enable",
  "mfa.disable",
  "mfa.regenerate_recovery_codes",
  "security.update",
  "user.verify_email",
  "user.reset_password",
  "billing.update",
  "support.start",
  "support.end",
  "support.request",
  "scim_token.create",
  "scim_token.revoke",
  "scim_user.create",
  "scim_user.update",
  "scim_user.deactivate",
  "scim_user.reactivate",
  "scim_user.delete",
  "scim_group.create",
  "scim_group.update",
  "scim_group.delete",
  "sso_connection.create",
  "sso_connection.update",
  "sso_connection.delete",
  "sso_connection.test",
  "sso_connection.metadata_refresh",
  "sso_domain.add",
  "sso_domain.verify",
  "sso_domain.remove",
  "sso.sign_in",
  "sso.refuse",
] as const;
export type PlatformAuditAction = (typeof AUDIT_ACTIONS)[number];

/**
 * The product's audit actions, one key each. Core never imports the product: the product's
 * registration adds its keys by module augmentation (`declare module "@tenantry/core"`), so the
 * list stays closed and checked, and deleting the product deletes its actions.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by the product's declaration merging.
export interface ProductAuditActions {}
export type ProductAuditAction = keyof ProductAuditActions & string;

export type AuditAction = PlatformAuditAction | ProductAuditAction;

const SECRET_KEY = /hash|token|password|secret|^key$/i;

/** Snapshots never carry secrets: any field whose name looks like one is dropped. */
export function redact(snapshot: Record<string, unknown> | null | undefined): string | null {
  if (!snapshot) return null;
  const clean: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(snapshot)) if (!SECRET_KEY.test(k)) clean[k] = v;
  return JSON.stringify(clean);
}

export interface AuditInput {
  /** A reserved id, for entries a retry must write only once; a new id otherwise. */
  id?: string;
  action: AuditAction;
  target: { type: string; id: string };
  before?: Record<string, unknown> | null;
  after?: Record<string, unknown> | null;
}

export interface AuditCtx {
  db: TenantDb;
  requestId: string;
  ip: string | null;
  actor: { type: string; id: string };
}

function auditRow(ctx: AuditCtx, input: AuditInput): typeof auditLog.$inferInsert {
  return {
    id: input.id ?? newId("audit"),
    tenantId: ctx.db.tenantId,
    actorType: ctx.actor.type,
    actorId: ctx.actor.id,
    action: input.action,
    targetType: input.target.type,
    targetId: input.target.id,
    before: redact(input.before),
    after: redact(input.after),
    requestId: ctx.requestId,
    ip: ctx.ip,
    createdAt: Date.now(),
  };
}

/** The insert for an audit entry; callers put it in the same batch as the change it records. */
export function auditEntry(ctx: AuditCtx, input: AuditInput) {
  return ctx.db.orm.insert(auditLog).values(auditRow(ctx, input));
}

/** An audit entry written only if `condition` holds when its turn in the batch comes. */
export function auditEntryWhere(ctx: AuditCtx, input: AuditInput, condition: SQL) {
  return insertWhere(ctx.db.orm, auditLog, auditRow(ctx, input), condition);
}
