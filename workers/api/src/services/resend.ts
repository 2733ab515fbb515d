import { z } from "zod";
import { MailRefusedError, type MailTransport } from "./mailer";

/** What Resend answers to a mail it accepted. */
const SentSchema = z.object({ id: z.string().min(1) });

/**
 * Resend's `POST /emails` (ADR 006). The mail id is the `Idempotency-Key`: Resend answers a repeat
 * within 24 hours with the first answer instead of sending again, which covers a send whose
 * answer was lost. 429, 409 (the same key still in flight) and 5xx are worth a retry; any other
 * refusal is final.
 */
export function resendTransport(opts: {
  base: string;
  from: string;
  token: string;
}): MailTransport {
  const url = `${opts.base.replace(/\/+$/, "")}/emails`;
  return {
    async deliver(mail) {
      const res = await fetch(url, {
        method: "POST",
        headers: {
          authorization: `Bearer ${opts.token}`,
          "content-type": "application/json",
          "idempotency-key": mail.id,
        },
        body: JSON.stringify({
          from: opts.from,
          to: [mail.to],
          subject: mail.subject,
          text: mail.text,
          // Lets support find a tenant's mail in Resend's logs.
          ...(mail.tenant_id ? { tags: [{ name: "tenant_id", value: mail.tenant_id }] } : {}),
        }),
      });
      if (res.ok) return { messageId: SentSchema.parse(await res.json()).id };
      const detail = `Resend answered ${res.status}: ${(await res.text()).slice(0, 500)}`;
      if (res.status === 429 || res.status === 409 || res.status >= 500) throw new Error(detail);
      throw new MailRefusedError(detail);
    },
  };
}
