import { tenantDb } from "@tenantry/core";
import { ssoConnections, ssoDomains } from "@tenantry/schema/tenant";
import { and, eq, isNotNull } from "drizzle-orm";
import type { Env } from "../../env";
import type { TenantRow } from "../registry";

export const domainOf = (email: string) => email.slice(email.lastIndexOf("@") + 1).toLowerCase();

/**
 * Home realm: the enabled connection serving the email's verified domain on this tenant, if any.
 * Sign-in offers it; when it is enforced, passwords are refused for that domain (owners aside).
 */
export async function connectionForEmail(env: Env, tenant: TenantRow, email: string) {
  const row = await tenantDb(env, tenant)
    .orm.select({ connection: ssoConnections })
    .from(ssoDomains)
    .innerJoin(ssoConnections, eq(ssoConnections.id, ssoDomains.connectionId))
    .where(
      and(
        eq(ssoDomains.domain, domainOf(email)),
        isNotNull(ssoDomains.verifiedAt),
        eq(ssoConnections.enabled, true),
      ),
    )
    .get();
  return row?.connection ?? null;
}

/**
 * Whether a password may not be used (sign-in, reset) by this member: SSO is enforced for the
 * email's domain and they are not an owner. Owners keep passwords as the break-glass path, so a
 * broken identity provider cannot lock the organisation out (docs/sso.md).
 */
export async function passwordRefusedBySso(
  env: Env,
  tenant: TenantRow,
  email: string,
  role: string,
): Promise<boolean> {
  if (role === "owner") return false;
  return (await connectionForEmail(env, tenant, email))?.enforced === true;
}
