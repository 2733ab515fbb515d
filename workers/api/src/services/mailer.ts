import { newId } from "@tenantry/schema";
import { mailOutbox } from "@tenantry/schema/control";
import { desc, eq } from "drizzle-orm";
import { controlDb } from "../db/control-db";
import type { Env } from "../env";
import { type MailMessage, MailMessageSchema } from "./mail-message";

export { type MailMessage, MailMessageSchema };

export interface Mail {
  to: string;
  subject: string;
  text: string;
  tenantId: string | null;
}

export type QueuedMail = Extract<MailMessage, { kind: "mail" }>;

/** Where mail goes: onto the MAIL queue, whose consumer hands it to the configured transport. */
export interface Mailer {
  /** Enqueues the mail and returns its id; `id` is for callers that must derive it (retries). */
  send(mail: Mail & { id?: string }): Promise<string>;
}

export function mailer(env: Env): Mailer {
  return {
    async send({ id = newId("mail"), to, subject, text, tenantId }) {
      await env.MAIL_QUEUE.send({ kind: "mail", id, tenant_id: tenantId, to, subject, text });
      return id;
    },
  };
}

/** Delivers one mail for the queue consumer; returns the transport's id for it. */
export interface MailTransport {
  deliver(mail: QueuedMail): Promise<{ messageId: string }>;
}

/** A refusal that no retry can change (a bad address, a bad key): the mail fails at once. */
export class MailRefusedError extends Error {}

/** Development transport: keeps every message in the control plane's `mail_outbox`. */
export function outboxTransport(env: Env): MailTransport {
  return {
    async deliver(mail) {
      await controlDb(env)
        .insert(mailOutbox)
        .values({
          id: mail.id,
          tenantId: mail.tenant_id,
          to: mail.to,
          subject: mail.subject,
          text: mail.text,
          createdAt: Date.now(),
        })
        .onConflictDoNothing();
      return { messageId: mail.id };
    },
  };
}

export type OutboxMail = typeof mailOutbox.$inferSelect;

/** The development outbox, newest first (optionally for one recipient). */
export function listOutbox(env: Env, to?: string): Promise<OutboxMail[]> {
  return controlDb(env)
    .select()
    .from(mailOutbox)
    .where(to ? eq(mailOutbox.to, to) : undefined)
    .orderBy(desc(mailOutbox.id))
    .limit(50);
}
