// The demo operator of the local platform (seeded by scripts/seed-operator.mjs into the local
// control database only) and its documented credentials.
// Production has no password accounts at all (the admin worker refuses to serve without
// Cloudflare Access), so these documented credentials open nothing outside a developer's machine.
import { Secret, TOTP } from "otpauth";

export const DEMO_OPERATOR = {
  id: "opr_0000000000DEM0000000000000",
  email: "ops@tenantry.dev",
  name: "Demo Operator",
  role: "platform_admin",
  password: "ops-demo-password",
  // PBKDF2 of `password` in @tenantry/core/crypto's format (apps/admin/test/demo-operator.test.ts
  // checks that they still match), so this script needs no hashing code of its own.
  passwordHash:
    "pbkdf2-sha256$100000$epcrGfMPAq1a7aYTCEsthw$7GOZRduE7qGpkqhwaCPRodUw5A5TUj24FcaaV5RL0Bg",
  // Base32, documented in apps/admin/README.md: add it to any authenticator app.
  totpSecret: "TENANTRYDEMOOPERATORTOTPSECRET22",
};

/** The demo operator's current TOTP code (what its authenticator app shows now). */
export function demoOperatorCode(now = Date.now()) {
  const totp = new TOTP({
    secret: Secret.fromBase32(DEMO_OPERATOR.totpSecret),
    algorithm: "SHA1",
    digits: 6,
    period: 30,
  });
  return totp.generate({ timestamp: now });
}
