import { SupportMailMessageSchema } from "@tenantry/core";
import { z } from "zod";

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
  // Support access started or ended: the consumer mails the tenant's owners (support-mail.ts).
  SupportMailMessageSchema,
]);
export type MailMessage = z.infer<typeof MailMessageSchema>;
