// npm run openapi:lint: writes the OpenAPI documents of the API worker (.wrangler/openapi.json)
// and of the admin worker's JSON API (.wrangler/admin-openapi.json), and lints both with Redocly
// CLI's recommended rules (redocly.yaml); exit 1 on any error. Each document comes from its worker
// (wrangler's local runtime, no port, no account, no network: lib/worker-document.mjs).
// No Redocly telemetry or update check.
import { execFileSync } from "node:child_process";
import { buildAdminApp, fittedAdminConfig } from "./lib/platform.mjs";
import {
  API_DOCUMENT,
  fetchApiDocument,
  fetchDocument,
  writeDocument,
} from "./lib/worker-document.mjs";

const documents = [API_DOCUMENT, ".wrangler/admin-openapi.json"];
writeDocument(await fetchApiDocument(), documents[0]);
buildAdminApp();
// Without its binding to the API worker's meters: no API worker runs here, and the document
// does not touch them.
const admin = fittedAdminConfig({
  dir: ".wrangler/admin-openapi",
  name: "tenantry-admin",
  apiName: null,
});
writeDocument(await fetchDocument(admin, "http://admin.localhost/api/openapi.json"), documents[1]);

try {
  execFileSync(
    "redocly",
    ["lint", ...documents, "--config", "redocly.yaml", "--format", "stylish"],
    {
      stdio: "inherit",
      env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" },
    },
  );
} catch {
  process.exit(1);
}
