// npm run stripe:reset: forgets the local Stripe emulator's state and the local control
// database's links to it, so the next `npm run dev` starts billing from scratch (the sweep then
// links every tenant to a new customer on the free plan).
import { rmSync } from "node:fs";
import {
  applyControlMigrations,
  resetLocalStripeLinks,
  STRIPE_EMULATOR_STATE,
} from "./lib/platform.mjs";

const EMULATOR = `http://127.0.0.1:${process.env.STRIPE_EMULATOR_PORT || 12111}`;

// A running emulator would write its memory back to the file: empty it first.
const running = await fetch(`${EMULATOR}/_emulator/reset`, {
  method: "POST",
  headers: { Authorization: "Bearer sk_test_reset" },
}).then(
  (response) => response.ok,
  () => false,
);
rmSync(STRIPE_EMULATOR_STATE, { force: true });
applyControlMigrations();
resetLocalStripeLinks();
console.log(
  `Stripe emulator state reset: deleted ${STRIPE_EMULATOR_STATE}${running ? ` and emptied the emulator running on ${EMULATOR}` : ""}.
Local tenants lost their Stripe customers, subscriptions, processed events and sweep checkpoints;
the next \`npm run dev\` (or its scheduled sweep) links them to new Stripe customers.`,
);
