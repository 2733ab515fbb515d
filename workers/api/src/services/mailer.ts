import { newId } from "@tenantry/schema";
import { mailOutbox } from "@tenantry/schema/control";
import { controlDb } from "../db/control-db";
import { config, type Env } from "../env";

export interface Mail {
  to: string;
  subject: string;
  text: string;
  tenantId: string | null;
}

/** Where mail goes. Production replaces the outbox with a provider behind the same interface. */
export interface Mailer {
  send(mail: Mail): Promise<void>;
}

/** Development mailer: keeps every message in the control plane's `mail_outbox`. */
export function outboxMailer(env: Env): Mailer {
  return {
    async send(mail) {
      await controlDb(env)
        .insert(mailOutbox)
        .values({ id: newId("mail"), ...mail, createdAt: Date.now() });
    },
  };
}

export function mailer(env: Env): Mailer {
  switch (config(env).MAILER) {
    case "outbox":
      return outboxMailer(env);
  }
}
