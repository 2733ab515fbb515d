import type { TenantDb } from "@tenantry/core";
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
      permissions: ReadonlySet<Permission>;
    }
  | {
      type: "api_key";
      id: string;
      createdBy: string;
      permissions: ReadonlySet<Permission>;
    };

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
