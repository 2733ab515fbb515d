import { ProblemError } from "@tenantry/core";
import Stripe from "stripe";
import { config, type Env } from "./env";
import { type RecordOutcome, recordEvent } from "./ledger";

const cryptoProvider = Stripe.createSubtleCryptoProvider();

export class SignatureError extends ProblemError {
  constructor(detail: string) {
    super(400, "invalid_signature", "Invalid Stripe signature", detail);
  }
}

/**
 * Verifies a delivery on its raw body as Stripe signs it, then records and enqueues it. Nothing
 * is stored unless the signature is valid and its timestamp is within the tolerance, in the past
 * (the SDK's check) and in the future (ours: the SDK accepts any future timestamp).
 */
export async function receiveWebhook(
  env: Env,
  rawBody: string,
  signature: string | undefined,
  now = Date.now(),
): Promise<RecordOutcome> {
  const cfg = config(env);
  if (!signature) throw new SignatureError("The Stripe-Signature header is missing.");
  const timestamp = Number(/(?:^|,)\s*t=(\d+)/.exec(signature)?.[1]);
  if (Number.isFinite(timestamp) && timestamp > now / 1000 + cfg.WEBHOOK_TOLERANCE_SECONDS) {
    throw new SignatureError("The signature's timestamp is too far in the future.");
  }
  let event: Stripe.Event;
  try {
    event = await Stripe.webhooks.constructEventAsync(
      rawBody,
      signature,
      cfg.STRIPE_WEBHOOK_SECRET,
      cfg.WEBHOOK_TOLERANCE_SECONDS,
      cryptoProvider,
      now,
    );
  } catch (err) {
    throw new SignatureError(err instanceof Error ? err.message : String(err));
  }
  return recordEvent(env, event, "webhook", now);
}
