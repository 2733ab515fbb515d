// Seeds the demo operator into the LOCAL control database (`wrangler d1 execute --local`, the
// state `npm run dev` uses); a deployed database is never touched. `npm run dev` calls
// seedDemoOperator after the control migrations; run alone with `npm run seed:operator`.
import { DEMO_OPERATOR, demoOperatorCode } from "./lib/demo-operator.mjs";
import { controlSql } from "./lib/platform.mjs";

const q = (s) => `'${String(s).replaceAll("'", "''")}'`;

/**
 * Creates the demo operator in the local control database, or restores its role, password and
 * TOTP secret if a developer changed them (idempotent; run after the control migrations).
 */
export function seedDemoOperator(options = {}) {
  const o = DEMO_OPERATOR;
  const now = Date.now();
  controlSql(
    `INSERT INTO operators (id, email, name, role, status, password_hash, totp_secret, created_at, updated_at)
     VALUES (${q(o.id)}, ${q(o.email)}, ${q(o.name)}, ${q(o.role)}, 'active', ${q(o.passwordHash)}, ${q(o.totpSecret)}, ${now}, ${now})
     ON CONFLICT(email) DO UPDATE SET role = excluded.role, status = 'active',
       password_hash = excluded.password_hash, totp_secret = excluded.totp_secret,
       setup_token_hash = NULL, setup_expires_at = NULL, updated_at = excluded.updated_at`,
    options,
  );
}

// `npm run seed:operator`: seed and print, for a local platform already set up.
if (import.meta.url === `file://${process.argv[1]}`) {
  seedDemoOperator();
  console.log(
    `demo operator ${DEMO_OPERATOR.email} / ${DEMO_OPERATOR.password}, TOTP secret ${DEMO_OPERATOR.totpSecret} (code now: ${demoOperatorCode()})`,
  );
}
