// Starting the platform locally: shared by `npm run dev` and the benchmarks.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { newJwtKey } from "../jwt-key.mjs";

/** Creates .dev.vars from the example with a freshly generated signing key, once. */
export function ensureDevVars(path = ".dev.vars") {
  if (existsSync(path)) return false;
  const text = readFileSync(".dev.vars.example", "utf8").replace(
    /^JWT_PRIVATE_KEY=.*$/m,
    `JWT_PRIVATE_KEY=${newJwtKey()}`,
  );
  writeFileSync(path, text);
  return true;
}

export function applyControlMigrations({ config = "wrangler.toml", persistTo } = {}) {
  execFileSync(
    "wrangler",
    [
      "d1",
      "migrations",
      "apply",
      "CONTROL_DB",
      "--local",
      "-c",
      config,
      ...(persistTo ? ["--persist-to", persistTo] : []),
    ],
    { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, CI: "true" } },
  );
}

/** Spawns a long-running command and resolves once `readyUrl` answers (any HTTP status). */
async function startProcess(name, command, args, { readyUrl, quiet = false, env = {} }) {
  const child = spawn(command, args, {
    stdio: ["ignore", quiet ? "ignore" : "inherit", "inherit"],
    env: { ...process.env, ...env },
  });
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}`);
    try {
      await fetch(readyUrl);
      break;
    } catch {}
    if (Date.now() > deadline) {
      child.kill();
      throw new Error(`${name} did not answer on ${readyUrl} within 120 s`);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  return { child, stop: () => child.kill("SIGTERM") };
}

/** Starts `wrangler dev` for a config and resolves once /healthz answers. */
export async function startWorker({
  config = "wrangler.toml",
  port,
  persistTo,
  quiet = false,
  envFile,
  testScheduled = false,
} = {}) {
  const args = [
    "dev",
    "-c",
    config,
    "--port",
    String(port),
    "--ip",
    "127.0.0.1",
    "--show-interactive-dev-session=false",
  ];
  if (persistTo) args.push("--persist-to", persistTo);
  if (envFile) args.push("--env-file", envFile);
  if (quiet) args.push("--log-level", "warn");
  if (testScheduled) args.push("--test-scheduled");
  const url = `http://localhost:${port}`;
  return {
    url,
    ...(await startProcess("wrangler dev", "wrangler", args, {
      readyUrl: `${url}/healthz`,
      quiet,
    })),
  };
}

/** Runs SQL against the local control database (the state `npm run dev` uses). */
export function controlSql(sql, { config = "wrangler.toml", persistTo } = {}) {
  execFileSync(
    "wrangler",
    [
      "d1",
      "execute",
      "CONTROL_DB",
      "--local",
      "-c",
      config,
      "--command",
      sql,
      ...(persistTo ? ["--persist-to", persistTo] : []),
    ],
    { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, CI: "true" } },
  );
}

/** Creates the plan catalog's products, prices and meters in the emulator (or any Stripe). */
export function syncStripeCatalog(apiBase, secretKey) {
  execFileSync("tsx", ["scripts/stripe-sync.ts"], {
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, STRIPE_API_BASE: apiBase, STRIPE_SECRET_KEY: secretKey },
  });
}

/** Starts the Stripe emulator (packages/stripe-emulator) on `port`. */
export async function startStripeEmulator({ port = 12111, env = {} } = {}) {
  const url = `http://localhost:${port}`;
  const proc = await startProcess(
    "stripe emulator",
    "tsx",
    ["packages/stripe-emulator/src/server.ts"],
    {
      readyUrl: url,
      env: { PORT: String(port), ...env },
    },
  );
  return { url, ...proc };
}

/**
 * Calls the API as a tenant host is called: `Host: <slug>.localhost:<port>`. Node's resolver
 * does not map `*.localhost` to loopback (browsers and curl do), so connect to 127.0.0.1 and
 * set the Host header, which node:http (unlike fetch) allows.
 */
export function call(port, { slug, method = "GET", path, body, token }) {
  const payload = body ? JSON.stringify(body) : undefined;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        method,
        path,
        headers: {
          host: slug ? `${slug}.localhost:${port}` : `localhost:${port}`,
          ...(payload
            ? { "content-type": "application/json", "content-length": Buffer.byteLength(payload) }
            : {}),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => {
          text += chunk;
        });
        res.on("end", () =>
          resolve({ status: res.statusCode, body: text ? JSON.parse(text) : null }),
        );
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

/** Signs a tenant up, or signs its owner in when it already exists. Returns an access token. */
export async function ensureTenant(port, { slug, name, email, password }) {
  const signup = await call(port, {
    method: "POST",
    path: "/v1/signup",
    body: { organization_name: name, slug, email, password },
  });
  if (signup.status === 201) return signup.body.access_token;
  if (signup.status !== 409)
    throw new Error(`sign-up of ${slug} failed: ${JSON.stringify(signup.body)}`);
  const login = await call(port, {
    slug,
    method: "POST",
    path: "/v1/auth/login",
    body: { email, password },
  });
  if (login.status !== 200)
    throw new Error(`sign-in to ${slug} failed: ${JSON.stringify(login.body)}`);
  return login.body.access_token;
}
