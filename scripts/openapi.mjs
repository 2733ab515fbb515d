// npm run openapi:lint: writes the API worker's OpenAPI document to .wrangler/openapi.json and
// lints it with Redocly CLI's recommended rules (redocly.yaml); exit 1 on any error. The document
// comes from the worker itself (wrangler's local runtime, no port, no account, no network).
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { unstable_startWorker } from "wrangler";
import { newJwtKey } from "./jwt-key.mjs";

const OUT = ".wrangler/openapi.json";
// Offline: no Request.cf download, no wrangler metrics, no Redocly telemetry or update check.
process.env.CLOUDFLARE_CF_FETCH_ENABLED = "false";
process.env.WRANGLER_SEND_METRICS = "false";

const worker = await unstable_startWorker({
  config: "wrangler.toml",
  // The worker checks its configuration on every request: run it as in tests (outbox mailer, a
  // throwaway signing key), which changes nothing in the document.
  bindings: {
    ENVIRONMENT: { type: "plain_text", value: "test" },
    MAILER: { type: "plain_text", value: "outbox" },
    JWT_PRIVATE_KEY: { type: "secret_text", value: newJwtKey() },
    AUDIT_SIGNING_KEY: { type: "secret_text", value: newJwtKey() },
  },
  dev: { server: { port: 0 }, inspector: false, persist: false, logLevel: "warn" },
});
try {
  await worker.ready;
  const res = await worker.fetch("http://localhost/openapi.json");
  if (!res.ok) throw new Error(`GET /openapi.json answered ${res.status}`);
  mkdirSync(".wrangler", { recursive: true });
  writeFileSync(OUT, `${JSON.stringify(await res.json(), null, 2)}\n`);
} finally {
  await worker.dispose();
}

try {
  execFileSync("redocly", ["lint", OUT, "--config", "redocly.yaml", "--format", "stylish"], {
    stdio: "inherit",
    env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" },
  });
} catch {
  process.exit(1);
}
