import type { TenantDb } from "@tenantry/core";
import type { SupportMode } from "@tenantry/schema/control";
import type { Env } from "./env";
import type { Permission, Role } from "./rbac/permissions";
import type { TenantRow } from "./services/registry";

export type Actor =
  | {
      type: "user";
      id: string;
      memberId: string;
      email: string;
      role: Role;
      sessionId: string;
      /** The tenant requires MFA and this member has not enrolled: only enrolment is open. */
      mfaEnrolmentRequired: boolean;
      permissions: ReadonlySet<Permission>;
    }
  | {
      type: "api_key";
      id: string;
      createdBy: string;
      permissions: ReadonlySet<Permission>;
    }
  | {
      /**
       * An operator's support access (issue 10): acts with the impersonated user's role, but is
       * named by the support session id, so audit entries name the operator's session, not the
       * user. The session row says who the operator is and why.
       */
      type: "support";
      id: string;
      userId: string;
      memberId: string;
      email: string;
      role: Role;
      mode: SupportMode;
      operator: { id: string; email: string };
      expiresAt: number;
      permissions: ReadonlySet<Permission>;
    }
  | {
      /**
       * An identity provider provisioning through SCIM (issue 12 §4), named by its token. It only
       * reaches the SCIM verbs, which never deprovision an owner.
       */
      type: "scim_token";
      id: string;
      createdBy: string;
      permissions: ReadonlySet<Permission>;
    };

/** The member a request acts for: the signed-in or impersonated user, or a key's creator. */
export function actingUserId(actor: Actor): string {
  return actor.type === "user"
    ? actor.id
    : actor.type === "support"
      ? actor.userId
      : actor.createdBy;
}

export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    tenant: TenantRow;
    actor: Actor;
  };
}

/** What every service verb receives at least (ADR 009): no tenant, nobody signed in. */
export interface RequestContext {
  env: Env;
  requestId: string;
  ip: string | null;
}

/** A public route of a tenant's host: the tenant is resolved from Host, nobody is signed in. */
export interface TenantRequestContext extends RequestContext {
  tenant: TenantRow;
}

/**
 * What every authenticated tenant-scoped verb receives. Nothing else carries a tenant id; `env`
 * is for platform services that also touch the control plane (identities, the sign-in index,
 * mail).
 */
export interface ServiceContext extends TenantRequestContext {
  actor: Actor;
  db: TenantDb;
}
