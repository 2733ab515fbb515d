import type { SupportMailMessage } from "@tenantry/core";
import { tenantDb } from "@tenantry/core";
import { supportSessions } from "@tenantry/schema/control";
import { members } from "@tenantry/schema/tenant";
import { and, eq } from "drizzle-orm";
import { controlDb } from "../db/control-db";
import { config, type Env } from "../env";
import { mailer } from "./mailer";
import { findTenantById, tenantUrl } from "./registry";

type SupportSession = typeof supportSessions.$inferSelect;

const when = (ms: number | null) => (ms === null ? "unknown" : new Date(ms).toUTCString());

/** The two support-access mails to a tenant's owners: started and ended. */
function supportMail(
  event: SupportMailMessage["event"],
  s: SupportSession,
  tenant: { name: string; auditUrl: string },
) {
  const details = [
    `Operator: ${s.operatorEmail}`,
    `Reason: ${s.reason}`,
    ...(s.ticketId ? [`Ticket: ${s.ticketId}`] : []),
    `Access: ${s.mode === "read" ? "read-only" : "read and write (approved by a second operator)"}`,
  ];
  if (event === "started") {
    return {
      subject: `Support access to ${tenant.name} started`,
      text: `A Tenantry support operator has started access to ${tenant.name}.\n\n${details.join("\n")}\nUntil: ${when(s.expiresAt)}\n\nEvery request made during support access is recorded in your audit log (${tenant.auditUrl}).`,
    };
  }
  return {
    subject: `Support access to ${tenant.name} ended`,
    text: `Support access to ${tenant.name} has ended at ${when(s.endedAt)}.\n\n${details.join("\n")}\n\nWhat was done is in your audit log (${tenant.auditUrl}).`,
  };
}

/**
 * The queue's half of support access: mails each owner of the tenant. Mail ids derive from the
 * session, the event and the owner, so a redelivered message mails nobody twice.
 */
export async function mailSupportAccess(env: Env, message: SupportMailMessage): Promise<void> {
  const tenant = await findTenantById(env, message.tenant_id);
  const session = await controlDb(env)
    .select()
    .from(supportSessions)
    .where(eq(supportSessions.id, message.support_session_id))
    .get();
  if (!tenant?.databaseBinding || session?.tenantId !== tenant.id) return;
  const owners = await tenantDb(env, tenant)
    .orm.select({ id: members.id, email: members.email })
    .from(members)
    .where(and(eq(members.tenantId, tenant.id), eq(members.role, "owner")));
  const { subject, text } = supportMail(message.event, session, {
    name: tenant.name,
    // The tenant app's audit log page (a browser opens it; `/v1/audit-log` is JSON).
    auditUrl: `${tenantUrl(config(env), tenant.slug)}/audit-log`,
  });
  for (const owner of owners) {
    await mailer(env).send({
      id: `${session.id}.${message.event}.${owner.id}`,
      to: owner.email,
      tenantId: tenant.id,
      subject,
      text,
    });
  }
}
