export { createStripeEmulator, type StripeEmulator } from "./emulator.js";
export { type EmulatorSnapshot, SNAPSHOT_VERSION } from "./persistence.js";
export type {
  ChaosOptions,
  DunningOptions,
  PaymentOutcome,
  PortalOptions,
  StripeEmulatorOptions,
  WebhookOptions,
} from "./state.js";
export { DEFAULT_API_VERSION } from "./state.js";
export { type DeliveryAttempt, type DeliveryReport, signPayload } from "./webhooks.js";
