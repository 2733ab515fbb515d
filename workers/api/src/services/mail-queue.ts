import { type LogFields, log, parseMessages, retryDelaySeconds } from "@tenantry/core";
import { mailLog } from "@tenantry/schema/control";
import { eq, sql } from "drizzle-orm";
import { controlDb } from "../db/control-db";
import { config, type Env } from "../env";
import {
  type MailMessage,
  MailMessageSchema,
  MailRefusedError,
  type MailTransport,
  outboxTransport,
  type QueuedMail,
} from "./mailer";
import { mailPasswordReset } from "./password-reset";
import { resendTransport } from "./resend";
import { mailSupportAccess } from "./support-mail";

/** The transport the configuration names (the config check guarantees what each one needs). */
export function mailTransport(env: Env): MailTransport {
  const cfg = config(env);
  switch (cfg.MAILER) {
    case "outbox":
      return outboxTransport(env);
    case "resend":
      return resendTransport({
        base: cfg.MAIL_API_BASE,
        from: cfg.MAIL_FROM!,
        token: cfg.MAIL_API_TOKEN!,
      });
  }
}

type MailState = (typeof mailLog.$inferInsert)["state"];

/**
 * Upserts the mail's row. A change without `error` keeps the one an earlier attempt recorded, so
 * the dead-letter queue can say why.
 */
function record(
  env: Env,
  mail: QueuedMail,
  change: { state: MailState; attempts?: number; messageId?: string; error?: string },
) {
  const now = Date.now();
  return controlDb(env)
    .insert(mailLog)
    .values({
      id: mail.id,
      tenantId: mail.tenant_id,
      to: mail.to,
      subject: mail.subject,
      state: change.state,
      attempts: change.attempts ?? 0,
      providerMessageId: change.messageId ?? null,
      error: change.error ?? null,
      createdAt: now,
      updatedAt: now,
    })
    .onConflictDoUpdate({
      target: mailLog.id,
      set: {
        state: change.state,
        attempts: change.attempts ?? sql`${mailLog.attempts}`,
        providerMessageId: change.messageId ?? null,
        error: change.error ?? sql`${mailLog.error}`,
        updatedAt: now,
      },
    })
    .returning({ error: mailLog.error });
}

/** Sends a queued mail once: an id already `sent` (or refused for good) is not sent again. */
async function deliver(env: Env, mail: QueuedMail, transport: MailTransport, attempts: number) {
  const done = await controlDb(env)
    .select({ state: mailLog.state })
    .from(mailLog)
    .where(eq(mailLog.id, mail.id))
    .get();
  if (done?.state === "sent" || done?.state === "failed") return;
  const { messageId } = await transport.deliver(mail);
  await record(env, mail, { state: "sent", attempts, messageId });
}

function logMail(level: "warn" | "error", msg: string, body: MailMessage, extra: LogFields) {
  const ids =
    body.kind === "mail"
      ? { mail_id: body.id }
      : body.kind === "password_reset"
        ? { request_id: body.request_id, kind: body.kind }
        : { support_session_id: body.support_session_id, kind: body.kind, event: body.event };
  log.forTenant(body.tenant_id)[level](msg, { ...ids, ...extra });
}

const reason = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * The MAIL queue consumer. Each message is handled on its own: delivered and acknowledged, or
 * retried with backoff (5 s, 10 s, 20 s, …) and, after the last retry, dead-lettered. A refusal
 * no retry can change marks the mail failed at once. A body that does not parse is dropped
 * with a log line (`parseMessages`).
 */
export async function consumeMailBatch(
  env: Env,
  batch: MessageBatch<unknown>,
  transport: MailTransport = mailTransport(env),
): Promise<void> {
  await Promise.all(
    parseMessages(batch, MailMessageSchema, "mail").map(async (m) => {
      const body = m.body;
      try {
        if (body.kind === "password_reset") await mailPasswordReset(env, body);
        else if (body.kind === "support_access") await mailSupportAccess(env, body);
        else await deliver(env, body, transport, m.attempts);
        m.ack();
      } catch (err) {
        if (body.kind === "mail" && err instanceof MailRefusedError) {
          await record(env, body, { state: "failed", attempts: m.attempts, error: reason(err) });
          logMail("error", "mail refused", body, { error: reason(err) });
          m.ack();
          return;
        }
        if (body.kind === "mail") {
          await record(env, body, { state: "retrying", attempts: m.attempts, error: reason(err) });
        }
        logMail("warn", "mail failed; retrying", body, { attempt: m.attempts, error: reason(err) });
        m.retry({ delaySeconds: retryDelaySeconds(m.attempts) });
      }
    }),
  );
}

/** The dead-letter queue: every attempt failed. The mail is marked failed with the last reason. */
export async function deadLetterMail(env: Env, batch: MessageBatch<unknown>): Promise<void> {
  for (const m of parseMessages(batch, MailMessageSchema, "mail")) {
    if (m.body.kind === "mail") {
      const [row] = await record(env, m.body, { state: "failed" });
      logMail("error", "mail dead-lettered", m.body, {
        error: row?.error ?? "no attempt recorded",
      });
    } else {
      logMail("error", `${m.body.kind} dead-lettered`, m.body, {});
    }
    m.ack();
  }
}
