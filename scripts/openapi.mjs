// npm run openapi:lint: writes the OpenAPI documents of the API worker (.wrangler/openapi.json)
// and of the admin worker's JSON API (.wrangler/admin-openapi.json), and lints both with Redocly
// CLI's recommended rules (redocly.yaml); exit 1 on any error. Each document comes from its worker
// (wrangler's local runtime, no port, no account, no network).
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { unstable_startWorker } from "wrangler";
import { newJwtKey } from "./jwt-key.mjs";
import { buildAdminApp, fittedAdminConfig } from "./lib/platform.mjs";

// Offline: no Request.cf download, no wrangler metrics, no Redocly telemetry or update check.
process.env.CLOUDFLARE_CF_FETCH_ENABLED = "false";
process.env.WRANGLER_SEND_METRICS = "false";

// The workers check their configuration on every request: run them as in tests (outbox mailer,
// throwaway signing keys), which changes nothing in the documents.
const TEST_BINDINGS = {
  ENVIRONMENT: { type: "plain_text", value: "test" },
  MAILER: { type: "plain_text", value: "outbox" },
  JWT_PRIVATE_KEY: { type: "secret_text", value: newJwtKey() },
  AUDIT_SIGNING_KEY: { type: "secret_text", value: newJwtKey() },
};

/** Fetches `url` from the worker of `config` and writes the document to `out`. */
async function writeDocument(config, url, out) {
  const worker = await unstable_startWorker({
    config,
    bindings: TEST_BINDINGS,
    dev: { server: { port: 0 }, inspector: false, persist: false, logLevel: "warn" },
  });
  try {
    await worker.ready;
    const res = await worker.fetch(url);
    if (!res.ok) throw new Error(`GET ${url} (${config}) answered ${res.status}`);
    mkdirSync(".wrangler", { recursive: true });
    writeFileSync(out, `${JSON.stringify(await res.json(), null, 2)}\n`);
  } finally {
    await worker.dispose();
  }
}

const documents = [".wrangler/openapi.json", ".wrangler/admin-openapi.json"];
await writeDocument("wrangler.toml", "http://localhost/openapi.json", documents[0]);
buildAdminApp();
// Without its binding to the API worker's meters: no API worker runs here, and the document
// does not touch them.
const admin = fittedAdminConfig({
  dir: ".wrangler/admin-openapi",
  name: "tenantry-admin",
  apiName: null,
});
await writeDocument(admin, "http://admin.localhost/api/openapi.json", documents[1]);

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
