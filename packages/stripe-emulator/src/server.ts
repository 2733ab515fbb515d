import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createStripeEmulator, type StripeEmulator } from "./emulator.js";
import type { ChaosOptions, StripeEmulatorOptions } from "./state.js";
import { loadStateFile, type StateFile, stateFile } from "./state-file.js";

/**
 * Standalone emulator on node:http (`npm run stripe:emulator`). Webhooks are delivered by
 * timers here (autoDeliver). Environment:
 *   PORT (12111), HOST (127.0.0.1), STRIPE_EMULATOR_BASE_URL (public origin of hosted pages),
 *   STRIPE_WEBHOOK_URL + STRIPE_WEBHOOK_SECRET (pre-registered endpoint, e.g. the webhooks worker),
 *   STRIPE_EMULATOR_CHAOS (JSON ChaosOptions), STRIPE_EMULATOR_SEED,
 *   STRIPE_EMULATOR_STATE or `--state <path>` (state file kept across restarts).
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
  /** State file: loaded at start when present, rewritten after changes. */
  statePath?: string;
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

export async function startStripeEmulatorServer(
  options: ServerOptions = {},
): Promise<EmulatorServer> {
  const { port = 12111, host = "127.0.0.1", statePath, ...emulatorOptions } = options;
  let file: StateFile | undefined;
  const saved = statePath ? await loadStateFile(statePath) : undefined;
  const emulator = createStripeEmulator({
    ...emulatorOptions,
    snapshot: saved ?? emulatorOptions.snapshot,
    onChange: () => {
      file?.changed();
      emulatorOptions.onChange?.();
    },
    webhooks: { autoDeliver: true, ...emulatorOptions.webhooks },
  });
  if (statePath) file = stateFile(statePath, () => emulator.snapshot());
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
        close: async () => {
          emulator.close();
          await new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          });
          await file?.flush();
        },
      });
    });
  });
}

function fromEnv(env: Record<string, string | undefined>, argv: string[]): ServerOptions {
  const flag = argv.indexOf("--state");
  return {
    statePath: (flag >= 0 ? argv[flag + 1] : undefined) ?? (env.STRIPE_EMULATOR_STATE || undefined),
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
  const options = fromEnv(env, process.argv);
  const server = await startStripeEmulatorServer(options).catch((error: unknown) => {
    const reason = error instanceof Error ? error.message : String(error);
    console.error(
      `stripe-emulator: cannot start from ${options.statePath}: ${reason}\nRun \`npm run stripe:reset\` to start over with an empty emulator.`,
    );
    process.exit(1);
  });
  if (options.statePath) {
    const customers = server.emulator.snapshot().maps.customers.length;
    console.log(`stripe-emulator: state in ${options.statePath} (${customers} customers)`);
  }
  // Saves what is pending before exiting (npm run dev stops the emulator with SIGTERM).
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      server.close().finally(() => process.exit(0));
    });
  }
  if (env.STRIPE_WEBHOOK_URL) {
    const endpoint = server.emulator.addWebhookEndpoint({
      url: env.STRIPE_WEBHOOK_URL,
      secret: env.STRIPE_WEBHOOK_SECRET,
      replace: true,
    });
    console.log(
      `stripe-emulator: delivering webhooks to ${env.STRIPE_WEBHOOK_URL} (${endpoint.id})`,
    );
  }
  console.log(`stripe-emulator: listening on ${server.url} (any sk_test_… key)`);
}
