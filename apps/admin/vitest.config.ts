import { defineConfig } from "vitest/config";
// Relative, so the config loader bundles the TypeScript sources instead of asking Node to.
import { apiWorkerProject } from "../../tests/api-worker-project.js";

// The admin worker's services and JSON API run in workerd beside the API worker (its meters,
// queues and databases), as they do in production behind their own host. The admin worker's own
// queues are bound without consumers: tests drive the FLEET steps by calling the verb.
export default defineConfig(() =>
  apiWorkerProject({
    name: "admin",
    bindings: { BASE_DOMAIN: "localhost:8787" },
    queueProducers: { BILLING_QUEUE: "tenantry-billing", FLEET_QUEUE: "tenantry-fleet" },
  }),
);
