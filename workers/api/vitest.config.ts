import { defineConfig } from "vitest/config";
// Relative, so the config loader bundles the TypeScript sources instead of asking Node to.
import { apiWorkerProject } from "../../tests/api-worker-project.js";

export default defineConfig(() => apiWorkerProject({ name: "api" }));
