import { auditEntry } from "@tenantry/core";
import type { ServiceContext } from "../context";

/**
 * The tenant's record of one request made with a support token (issue 10, section 4): what was
 * asked and how it was answered, under the support session (whose `support.start` entry names
 * the operator and the reason). Writes made during it carry the same actor.
 */
export async function recordSupportRequest({
  ctx,
  input,
}: {
  ctx: Pick<ServiceContext, "db" | "requestId" | "ip" | "actor">;
  input: { method: string; path: string; status: number };
}): Promise<void> {
  const { actor } = ctx;
  if (actor.type !== "support") return;
  await auditEntry(ctx, {
    action: "support.request",
    target: { type: "support_session", id: actor.id },
    after: { ...input, operator_email: actor.operator.email, mode: actor.mode },
  });
}
