import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createStripeEmulator, type StripeEmulator } from "./emulator.js";
import type { ChaosOptions, StripeEmulatorOptions } from "./state.js";

/**
 * Standalone emulator on node:http (`npm run stripe:emulator`). Webhooks are delivered by
 * timers here (autoDeliver). Environment:
 *   PORT (12111), HOST (127.0.0.1), STRIPE_EMULATOR_BASE_URL (public origin of hosted pages),
 *   STRIPE_WEBHOOK_URL + STRIPE_WEBHOOK_SECRET (pre-registered endpoint, e.g. the webhooks worker),
 *   STRIPE_EMULATOR_CHAOS (JSON ChaosOptions), STRIPE_EMULATOR_SEED.
 */
export interface EmulatorServer {
  emulator: StripeEmulator;
  port: number;
  url: string;
  close(): Promise<void>;
}

export interface ServerOptions extends StripeEmulatorOptions {
  port?: number;
  host?: string;
}

async function toRequest(req: IncomingMessage, origin: string): Promise<Request> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of req) chunks.push(chunk);
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  const method = req.method ?? "GET";
  const hasBody = method !== "GET" && method !== "HEAD" && chunks.length > 0;
  const body = hasBody ? new Blob(chunks).stream() : undefined;
  return new Request(new URL(req.url ?? "/", origin), {
    method,
    headers,
    body,
    duplex: "half",
  } as RequestInit);
}

async function send(res: ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  res.writeHead(response.status, headers);
  res.end(new Uint8Array(await response.arrayBuffer()));
}

export function startStripeEmulatorServer(options: ServerOptions = {}): Promise<EmulatorServer> {
  const { port = 12111, host = "127.0.0.1", ...emulatorOptions } = options;
  const emulator = createStripeEmulator({
    ...emulatorOptions,
    webhooks: { autoDeliver: true, ...emulatorOptions.webhooks },
  });
  const server = createServer((req, res) => {
    const origin = `http://${typeof req.headers.host === "string" ? req.headers.host : `${host}:${port}`}`;
    toRequest(req, origin)
      .then((request) => emulator.fetch(request))
      .then((response) => send(res, response))
      .catch((error: unknown) => {
        res.writeHead(500, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ error: { type: "api_error", message: String(error) } }));
      });
  });
  return new Promise((resolve, reject) => {
    server.on("error", reject);
    server.listen(port, host, () => {
      const address = server.address();
      const actualPort = typeof address === "object" && address ? address.port : port;
      resolve({
        emulator,
        port: actualPort,
        url: `http://${host}:${actualPort}`,
        close: () =>
          new Promise<void>((done) => {
            emulator.close();
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

function fromEnv(env: Record<string, string | undefined>): ServerOptions {
  return {
    port: env.PORT ? Number(env.PORT) : 12111,
    host: env.HOST ?? "127.0.0.1",
    baseUrl: env.STRIPE_EMULATOR_BASE_URL,
    seed: env.STRIPE_EMULATOR_SEED ? Number(env.STRIPE_EMULATOR_SEED) : undefined,
    chaos: env.STRIPE_EMULATOR_CHAOS
      ? (JSON.parse(env.STRIPE_EMULATOR_CHAOS) as Partial<ChaosOptions>)
      : undefined,
  };
}

// Started directly (`tsx src/server.ts`) rather than imported by tests.
const entry: string | undefined = process.argv?.[1];
const self = (import.meta as ImportMeta & { url: string }).url;
if (entry && self === new URL(`file://${entry}`).href) {
  const env = process.env as Record<string, string | undefined>;
  const server = await startStripeEmulatorServer(fromEnv(env));
  if (env.STRIPE_WEBHOOK_URL) {
    const endpoint = server.emulator.addWebhookEndpoint({
      url: env.STRIPE_WEBHOOK_URL,
      secret: env.STRIPE_WEBHOOK_SECRET,
    });
    console.log(
      `stripe-emulator: delivering webhooks to ${env.STRIPE_WEBHOOK_URL} (${endpoint.id})`,
    );
  }
  console.log(`stripe-emulator: listening on ${server.url} (any sk_test_… key)`);
}
