// npm run openapi:lint: writes the OpenAPI documents of the API worker (.wrangler/openapi.json)
// and of the admin worker's JSON API (.wrangler/admin-openapi.json), and lints both with Redocly
// CLI's recommended rules (redocly.yaml); exit 1 on any error. Each document comes from its worker
// (wrangler's local runtime, no port, no account, no network: lib/worker-document.mjs).
// No Redocly telemetry or update check.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { ADMIN_BUILD_CONFIG, buildAdminApp } from "./lib/platform.mjs";
import {
  API_DOCUMENT,
  fetchApiDocument,
  fetchDocument,
  writeDocument,
} from "./lib/worker-document.mjs";

/**
 * The admin worker's built config without its binding to the API worker's meters (no API worker
 * runs here, and the document does not touch them), beside the build's bundle.
 */
function adminDocsConfig() {
  const built = JSON.parse(readFileSync(ADMIN_BUILD_CONFIG, "utf8"));
  const from = dirname(resolve(ADMIN_BUILD_CONFIG));
  const config = {
    ...built,
    main: resolve(from, built.main),
    assets: { ...built.assets, directory: resolve(from, built.assets.directory) },
    durable_objects: { bindings: [] },
  };
  for (const key of ["configPath", "userConfigPath", "topLevelName"]) delete config[key];
  mkdirSync(".wrangler/admin-openapi", { recursive: true });
  writeFileSync(".wrangler/admin-openapi/wrangler.json", JSON.stringify(config));
  return ".wrangler/admin-openapi/wrangler.json";
}

const documents = [API_DOCUMENT, ".wrangler/admin-openapi.json"];
writeDocument(await fetchApiDocument(), documents[0]);
buildAdminApp();
writeDocument(
  await fetchDocument(adminDocsConfig(), "http://admin.localhost/api/openapi.json"),
  documents[1],
);

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
