import { Secret, TOTP } from "otpauth";

/** RFC 6238 as every authenticator app speaks it: SHA-1, 6 digits, 30-second steps. */
const PERIOD_SECONDS = 30;

/**
 * TOTP for both realms: operators (apps/admin) and tenant users (workers/api, ADR 023). The
 * issuer names the realm in the authenticator app.
 */
function totp(secret: string, label = "user", issuer = "Tenantry") {
  return new TOTP({
    issuer,
    label,
    secret: Secret.fromBase32(secret),
    algorithm: "SHA1",
    digits: 6,
    period: PERIOD_SECONDS,
  });
}

/** A new base32 TOTP secret (160 bits, as RFC 4226 recommends). */
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

/** The `otpauth://` URI an authenticator app enrols from (a QR code or pasted). */
export function totpUri(secret: string, label: string, issuer: string): string {
  return totp(secret, label, issuer).toString();
}

/** The current code: for tests and the seeded demo operator's documentation only. */
export function totpCode(secret: string, now = Date.now()): string {
  return totp(secret).generate({ timestamp: now });
}

/**
 * The time step a code belongs to (one step of clock drift either way), or null when it is not
 * a current code. Callers accept a step only if it is later than the last one accepted.
 */
export function totpStep(secret: string, code: string, now = Date.now()): number | null {
  if (!/^\d{6}$/.test(code)) return null;
  const delta = totp(secret).validate({ token: code, timestamp: now, window: 1 });
  return delta === null ? null : Math.floor(now / 1000 / PERIOD_SECONDS) + delta;
}
