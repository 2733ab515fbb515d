// The workers' OpenAPI documents come from the workers themselves: each is started in wrangler's
// local runtime (no port, no account, no network) and asked for its document. Used by
// `npm run openapi:lint` (both documents) and `npm run client:generate` / `client:check` (the API's).
import { mkdirSync, writeFileSync } from "node:fs";
import { unstable_startWorker } from "wrangler";
import { newJwtKey } from "../jwt-key.mjs";

// Offline: no Request.cf download, no wrangler metrics.
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

/** Where `npm run openapi:lint` leaves the API worker's document. */
export const API_DOCUMENT = ".wrangler/openapi.json";

/** Fetches `url` from the worker of `config` and returns the parsed document. */
export async function fetchDocument(config, url) {
  const worker = await unstable_startWorker({
    config,
    bindings: TEST_BINDINGS,
    dev: { server: { port: 0 }, inspector: false, persist: false, logLevel: "warn" },
  });
  try {
    await worker.ready;
    const res = await worker.fetch(url);
    if (!res.ok) throw new Error(`GET ${url} (${config}) answered ${res.status}`);
    return await res.json();
  } finally {
    await worker.dispose();
  }
}

/** The API worker's document (`GET /openapi.json` of `wrangler.toml`'s worker). */
export function fetchApiDocument() {
  return fetchDocument("wrangler.toml", "http://localhost/openapi.json");
}

/** Writes a document as `npm run openapi:lint` lints it. */
export function writeDocument(document, out) {
  mkdirSync(".wrangler", { recursive: true });
  writeFileSync(out, `${JSON.stringify(document, null, 2)}\n`);
}
