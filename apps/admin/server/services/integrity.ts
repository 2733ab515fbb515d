import {
  type AuditVerification,
  verifyPlatformAuditLog,
  verifyTenantAuditLog,
} from "@tenantry/core";
import type { OperatorContext } from "../context";

/**
 * Verifies the operator audit log and, when asked, one tenant's audit log against their sealed
 * chains and signed checkpoints (ADR 012): each altered, deleted or reordered entry is named.
 */
export async function verifyAuditLogs({
  ctx,
  input,
}: {
  ctx: OperatorContext;
  input: { tenantId?: string };
}): Promise<{ platform: AuditVerification; tenant: AuditVerification | null }> {
  const [platform, tenant] = await Promise.all([
    verifyPlatformAuditLog({ ctx }),
    input.tenantId ? verifyTenantAuditLog({ ctx, input: { tenantId: input.tenantId } }) : null,
  ]);
  return { platform, tenant };
}
