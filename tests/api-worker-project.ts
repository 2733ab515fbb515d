import { generateKeyPairSync, randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { withAccessTeam } from "./access-team.js";
import { withMailRecorder } from "./mail-recorder.js";
import { withIdentityStandIns } from "./oidc-idp.js";
import { stripeOutboundWithCatalog, stripeWithoutSourceMaps } from "./stripe.js";

/** Tests get a larger pool than development (each test file provisions its own tenants). */
const TEST_POOL_SIZE = 400;

/**
 * A vitest project running inside workerd with the API worker as its main module (its Durable
 * Objects, queues, D1 control database and a test-sized tenant pool), Stripe answered by the
 * emulator and mail by a recorder. The API's own tests use it; the admin worker's tests use it
 * too and call the admin app in the same isolate, over the same bindings.
 */
export async function apiWorkerProject({
  name,
  bindings = {},
  queueProducers = {},
}: {
  name: string;
  /** Extra bindings (the admin worker's secrets). */
  bindings?: Record<string, string>;
  /**
   * Extra queue producers (binding → queue), added to the API worker's. Their queues have no
   * consumer here: tests run the consumers' verbs themselves.
   */
  queueProducers?: Record<string, string>;
}) {
  const controlMigrations = await readD1Migrations(
    fileURLToPath(new URL("../schema/migrations/control", import.meta.url)),
  );
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const jwk = { ...privateKey.export({ format: "jwk" }), kid: "test" };
  const auditKey = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
  // The admin worker's support-token key pair: tests mint with the private half (core's verbs).
  const support = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const supportSigningKey = { ...support.privateKey.export({ format: "jwk" }), kid: "support" };
  const supportVerifyKey = { ...support.publicKey.export({ format: "jwk" }), kid: "support" };
  const pool = Object.fromEntries(
    Array.from({ length: TEST_POOL_SIZE }, (_, i) => {
      const n = String(i + 1).padStart(4, "0");
      return [`TENANT_DB_${n}`, `test-tenant-${n}`];
    }),
  );
  // Stripe cannot be reached from here: the worker's outbound requests to Stripe are answered
  // by the project's emulator, running in this Node process, with the plan catalog in place;
  // requests to the mail provider reach a recorder that checks and keeps them; a stand-in
  // Cloudflare Access team serves its keys and signs tokens for the admin worker's tests.
  const outboundService = await withIdentityStandIns(
    await withAccessTeam(withMailRecorder(await stripeOutboundWithCatalog())),
  );
  return {
    plugins: [
      stripeWithoutSourceMaps,
      cloudflareTest({
        wrangler: { configPath: fileURLToPath(new URL("../wrangler.toml", import.meta.url)) },
        miniflare: {
          bindings: {
            ENVIRONMENT: "test",
            JWT_PRIVATE_KEY: JSON.stringify(jwk),
            AUDIT_SIGNING_KEY: JSON.stringify({
              ...auditKey.export({ format: "jwk" }),
              kid: "audit-test",
            }),
            SUPPORT_VERIFY_KEY: JSON.stringify(supportVerifyKey),
            SUPPORT_SIGNING_KEY: JSON.stringify(supportSigningKey),
            // Tests change tenant status directly; they must see it at once.
            REGISTRY_CACHE_TTL_SECONDS: "0",
            // Test files sign up many tenants with no client address; the sign-up throttle's own
            // tests run the worker with the production limits (test/signup-throttle.test.ts).
            SIGNUP_LIMIT_PER_CLIENT: "100000",
            SIGNUP_LIMIT_PER_DOMAIN: "100000",
            TEST_CONTROL_MIGRATIONS: controlMigrations,
            // Set explicitly: a developer's .dev.vars must not leak into tests.
            STRIPE_SECRET_KEY: "sk_test_tenantry",
            STRIPE_API_BASE: "https://api.stripe.com",
            MAILER: "outbox",
            MAIL_API_BASE: "https://api.resend.com",
            SSO_ENCRYPTION_KEY: randomBytes(32).toString("base64url"),
            SSO_DNS_RESOLVER: "https://cloudflare-dns.com/dns-query",
            ...bindings,
          },
          outboundService,
          queueProducers: Object.fromEntries(
            Object.entries(queueProducers).map(([binding, queueName]) => [binding, { queueName }]),
          ),
          d1Databases: { CONTROL_DB: "test-control", ...pool },
          // As wrangler.toml, but a batch leaves at once: tests wait for their mail.
          queueConsumers: {
            "tenantry-mail": {
              maxBatchSize: 50,
              maxBatchTimeout: 0,
              maxRetries: 5,
              deadLetterQueue: "tenantry-mail-dlq",
            },
            "tenantry-mail-dlq": { maxBatchSize: 50, maxBatchTimeout: 0 },
          },
        },
      }),
    ],
    test: {
      name,
      include: ["test/**/*.test.ts"],
      setupFiles: [fileURLToPath(new URL("./control-migrations.setup.ts", import.meta.url))],
      testTimeout: 30_000,
      // Expected failures log by design (injected provisioning faults); show logs of failures only.
      silent: "passed-only",
    },
  };
}
