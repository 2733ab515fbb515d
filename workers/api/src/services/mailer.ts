import { newId } from "@tenantry/schema";
import { mailOutbox } from "@tenantry/schema/control";
import { desc, eq } from "drizzle-orm";
import { z } from "zod";
import { controlDb } from "../db/control-db";
import type { Env } from "../env";

export interface Mail {
  to: string;
  subject: string;
  text: string;
  tenantId: string | null;
}

/**
 * The MAIL queue's messages. A `mail` carries its id, decided before it was enqueued: the
 * consumer's record of sent ids and the provider's idempotency key both use it, so a redelivery
 * sends nothing twice. `password_reset` defers the member lookup to the consumer, so a request
 * for a member and one for a stranger do the same work (ADR 006).
 */
export const MailMessageSchema = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("mail"),
    id: z.string().min(1).max(200),
    tenant_id: z.string().nullable(),
    to: z.string().min(3),
    subject: z.string().min(1),
    text: z.string(),
  }),
  z.object({
    kind: z.literal("password_reset"),
    tenant_id: z.string().min(1),
    email: z.string().min(3),
    request_id: z.string().min(1),
  }),
]);
export type MailMessage = z.infer<typeof MailMessageSchema>;
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
