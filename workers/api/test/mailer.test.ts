/**
 * The mailer: configuration that refuses the outbox outside development, the MAIL queue end to
 * end (development outbox), and the Resend transport's wire format, retries, dead letters and
 * idempotency against the recording server in tests/mail-recorder.ts.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { newId } from "@tenantry/schema";
import { describe, expect, it } from "vitest";
import { config, type Env } from "../src/env";
import { consumeMailBatch, deadLetterMail } from "../src/services/mail-queue";
import { type MailMessage, mailer, type QueuedMail } from "../src/services/mailer";
import { createTenant, lastMail, uniqueSlug } from "./helpers";

const wenv = env as unknown as Env;
const FROM = "Tenantry <no-reply@mail.tenantry.test>";
const TOKEN = "re_test_tenantry";
/** The worker's env as production configures it, with Resend answered by the recorder. */
const resendEnv: Env = { ...wenv, MAILER: "resend", MAIL_FROM: FROM, MAIL_API_TOKEN: TOKEN };

async function recorder(path: string, init?: RequestInit): Promise<any> {
  const res = await fetch(`https://api.resend.com/_recorder/${path}`, init);
  if (!res.ok) throw new Error(`recorder ${path}: ${res.status}`);
  return res.json();
}
const requestsFor = (mail: QueuedMail) =>
  recorder(`requests?idempotency_key=${encodeURIComponent(mail.id)}`);
const failNext = (to: string, script: { statuses?: number[]; always?: number }) =>
  recorder("fail", { method: "POST", body: JSON.stringify({ to, ...script }) });

function queuedMail(tenantId: string | null = newId("tenant")): QueuedMail {
  const to = `${uniqueSlug("rcpt")}@example.com`;
  return {
    kind: "mail",
    id: newId("mail"),
    tenant_id: tenantId,
    to,
    subject: "Your link",
    text: `Hello ${to},\nhttps://acme.example.com/verify-email?token=abc\n`,
  };
}

/** Runs a consumer on one delivery of `mail`, as the Queues runtime would; returns its record. */
async function consume(mail: MailMessage, attempts = 1, opts: { queue?: string; env?: Env } = {}) {
  const queue = opts.queue ?? "tenantry-mail";
  const batch = createMessageBatch<MailMessage>(queue, [
    { id: `m-${crypto.randomUUID()}`, timestamp: new Date(), attempts, body: mail },
  ]);
  const ctx = createExecutionContext();
  const run = queue.endsWith("-dlq") ? deadLetterMail : consumeMailBatch;
  await run(opts.env ?? resendEnv, batch);
  return getQueueResult(batch, ctx);
}

const logRow = (id: string) =>
  wenv.CONTROL_DB.prepare("SELECT * FROM mail_log WHERE id = ?").bind(id).first<any>();

describe("mailer configuration", () => {
  const production = { ...wenv, ENVIRONMENT: "production" };

  it("outside development, an unset MAILER or the outbox is a configuration error that names MAILER", () => {
    expect(() => config({ ...production, MAILER: undefined })).toThrow(
      /MAILER is not set with ENVIRONMENT=production: the development outbox sends nothing/,
    );
    expect(() => config({ ...production, MAILER: "outbox" })).toThrow(
      /MAILER is "outbox" with ENVIRONMENT=production/,
    );
    expect(() => config({ ...production, MAILER: "resend", MAIL_FROM: FROM })).toThrow(
      /MAIL_API_TOKEN is not set: MAILER=resend needs it/,
    );
    expect(() => config({ ...production, MAILER: "smtp" })).toThrow(/MAILER/);
    expect(
      config({ ...production, MAILER: "resend", MAIL_FROM: FROM, MAIL_API_TOKEN: TOKEN }),
    ).toMatchObject({
      MAILER: "resend",
      MAIL_API_BASE: "https://api.resend.com",
    });
  });

  it("development and test default to the outbox", () => {
    expect(config({ ...wenv, MAILER: undefined }).MAILER).toBe("outbox");
    expect(config({ ...wenv, ENVIRONMENT: "development", MAILER: undefined }).MAILER).toBe(
      "outbox",
    );
  });

  it("a production worker without a mailer answers every request with a 500 and logs why", async () => {
    const { app } = await import("../src/index");
    const logged: string[] = [];
    const original = console.error;
    console.error = (line: string) => logged.push(line);
    try {
      const res = await app.request(
        "http://localhost:8787/healthz",
        {},
        { ...production, MAILER: undefined },
      );
      expect(res.status).toBe(500);
      await res.body?.cancel();
    } finally {
      console.error = original;
    }
    expect(logged.join("\n")).toMatch(/invalid worker configuration[\s\S]*MAILER is not set/);
  });
});

describe("the MAIL queue (development outbox)", () => {
  it("send() enqueues; the consumer delivers to the outbox once and records the mail as sent", async () => {
    const t = await createTenant();
    const to = `${uniqueSlug("dev")}@example.com`;
    const id = await mailer(wenv).send({
      to,
      subject: "Queued",
      text: "hi",
      tenantId: t.tenant.id,
    });
    const mail = await lastMail(to);
    expect(mail).toMatchObject({ id, subject: "Queued", text: "hi", tenant_id: t.tenant.id });
    const deadline = Date.now() + 10_000;
    while ((await logRow(id))?.state !== "sent" && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await logRow(id)).toMatchObject({
      state: "sent",
      tenant_id: t.tenant.id,
      to,
      subject: "Queued",
      provider_message_id: id,
      error: null,
    });
  });

  it("drops a message whose body does not parse (acknowledged, logged with the reason)", async () => {
    const logged: string[] = [];
    const original = console.error;
    console.error = (line: string) => logged.push(line);
    let result: Awaited<ReturnType<typeof consume>>;
    try {
      result = await consume({ kind: "mail", id: "" } as unknown as MailMessage, 1, { env: wenv });
    } finally {
      console.error = original;
    }
    expect(result.explicitAcks.length).toBe(1);
    expect(result.retryMessages).toEqual([]);
    expect(JSON.parse(logged[0]!)).toMatchObject({
      level: "error",
      msg: "malformed mail message dropped",
      id: result.explicitAcks[0],
      reason: expect.stringContaining("subject"),
    });
  });
});

describe("the Resend transport", () => {
  it("sends one request in Resend's documented shape, keyed by the mail id", async () => {
    const mail = queuedMail();
    const result = await consume(mail);
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks.length).toBe(1);
    const requests = await requestsFor(mail);
    expect(requests).toHaveLength(1);
    const [req] = requests;
    expect(req.method).toBe("POST");
    expect(req.path).toBe("/emails");
    expect(req.headers).toMatchObject({
      authorization: `Bearer ${TOKEN}`,
      "content-type": "application/json",
      "idempotency-key": mail.id,
    });
    expect(req.body).toEqual({
      from: FROM,
      to: [mail.to],
      subject: mail.subject,
      text: mail.text,
      tags: [{ name: "tenant_id", value: mail.tenant_id }],
    });
    expect(await logRow(mail.id)).toMatchObject({
      state: "sent",
      attempts: 1,
      tenant_id: mail.tenant_id,
      provider_message_id: expect.stringMatching(/^re_msg_\d+$/),
    });
  });

  it("a mail without a tenant carries no tag", async () => {
    const mail = queuedMail(null);
    await consume(mail);
    const [req] = await requestsFor(mail);
    expect(req.body).toEqual({ from: FROM, to: [mail.to], subject: mail.subject, text: mail.text });
  });

  it("500, 500, then 200: retried with backoff and sent once", async () => {
    const mail = queuedMail();
    await failNext(mail.to, { statuses: [500, 500] });
    for (const attempt of [1, 2]) {
      const result = await consume(mail, attempt);
      expect(result.explicitAcks).toEqual([]);
      // (The runtime's record leaves out the delay; the backoff is core's retryDelaySeconds.)
      expect(result.retryMessages).toHaveLength(1);
      expect(await logRow(mail.id)).toMatchObject({
        state: "retrying",
        attempts: attempt,
        error: expect.stringContaining("Resend answered 500"),
      });
    }
    const last = await consume(mail, 3);
    expect(last.explicitAcks.length).toBe(1);
    const requests = await requestsFor(mail);
    expect(requests).toHaveLength(3);
    expect(new Set(requests.map((r: any) => r.headers["idempotency-key"]))).toEqual(
      new Set([mail.id]),
    );
    expect(await logRow(mail.id)).toMatchObject({ state: "sent", attempts: 3 });
  });

  it("429 is retried too", async () => {
    const mail = queuedMail();
    await failNext(mail.to, { statuses: [429] });
    expect((await consume(mail)).retryMessages).toHaveLength(1);
    expect((await consume(mail, 2)).explicitAcks).toHaveLength(1);
    expect(await logRow(mail.id)).toMatchObject({ state: "sent" });
  });

  it("a provider that always fails: the dead-letter queue marks the mail failed with the reason", async () => {
    const mail = queuedMail();
    await failNext(mail.to, { always: 503 });
    for (let attempt = 1; attempt <= 6; attempt++) {
      expect((await consume(mail, attempt)).retryMessages).toHaveLength(1);
    }
    const logged: string[] = [];
    const original = console.error;
    console.error = (line: string) => logged.push(line);
    try {
      expect((await consume(mail, 1, { queue: "tenantry-mail-dlq" })).explicitAcks).toHaveLength(1);
    } finally {
      console.error = original;
    }
    expect(await logRow(mail.id)).toMatchObject({
      state: "failed",
      attempts: 6,
      error: expect.stringContaining("Resend answered 503"),
    });
    expect(JSON.parse(logged[0]!)).toMatchObject({
      level: "error",
      msg: "mail dead-lettered",
      tenant_id: mail.tenant_id,
      mail_id: mail.id,
      error: expect.stringContaining("503"),
    });
    expect(await requestsFor(mail)).toHaveLength(6);
  });

  it("a refusal no retry can change (422) fails the mail at once", async () => {
    const mail = queuedMail();
    await failNext(mail.to, { statuses: [422] });
    const result = await consume(mail);
    expect(result.explicitAcks).toHaveLength(1);
    expect(result.retryMessages).toEqual([]);
    expect(await logRow(mail.id)).toMatchObject({
      state: "failed",
      error: expect.stringContaining("Resend answered 422"),
    });
  });

  it("a redelivered message whose mail was sent makes no second provider call", async () => {
    const mail = queuedMail();
    await consume(mail);
    const again = await consume(mail, 1);
    expect(again.explicitAcks).toHaveLength(1);
    expect(await requestsFor(mail)).toHaveLength(1);
  });

  it("a send whose record was lost is repeated with the same key: Resend answers with the first mail", async () => {
    const mail = queuedMail();
    await consume(mail);
    const first = (await logRow(mail.id)).provider_message_id;
    // As if the consumer crashed between Resend's answer and its own record.
    await wenv.CONTROL_DB.prepare("DELETE FROM mail_log WHERE id = ?").bind(mail.id).run();
    await consume(mail, 2);
    const requests = await requestsFor(mail);
    expect(requests).toHaveLength(2);
    expect(requests[1].headers["idempotency-key"]).toBe(mail.id);
    expect(await logRow(mail.id)).toMatchObject({ state: "sent", provider_message_id: first });
  });
});
