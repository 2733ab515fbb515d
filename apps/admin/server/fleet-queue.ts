import { log, parseMessages, retryDelaySeconds } from "@tenantry/core";
import type { AdminEnv } from "./env";
import { FleetMessageSchema } from "./fleet-message";
import { runFleetStep } from "./services/fleet-steps";

/**
 * The FLEET queue consumer (ADR 014): one `runFleetStep` per message. A step records a
 * migration's failure itself; a throw (the control database unreachable) retries the message.
 */
export async function consumeFleetBatch(env: AdminEnv, batch: MessageBatch<unknown>) {
  for (const message of parseMessages(batch, FleetMessageSchema, "fleet")) {
    try {
      await runFleetStep({ ctx: { env }, input: message.body });
      message.ack();
    } catch (err) {
      log.forTenant(message.body.tenant_id).warn("fleet step failed; retrying", {
        run_id: message.body.run_id,
        error: String(err),
      });
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    }
  }
}
