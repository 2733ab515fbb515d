/**
 * Password hashing: PBKDF2-SHA256 at 100,000 iterations, the most production workerd accepts.
 * The hash string carries its parameters (`pbkdf2-sha256$<iterations>$<salt>$<hash>`) so they
 * can be raised later: `needsRehash` tells when a stored hash is below the current parameters.
 */
export const PASSWORD_HASH = {
  algorithm: "pbkdf2-sha256",
  iterations: 100_000,
  saltBytes: 16,
  keyBits: 256,
} as const;

const encoder = new TextEncoder();

export function base64url(bytes: ArrayBuffer | Uint8Array): string {
  const arr = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let s = "";
  for (const b of arr) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function fromBase64url(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

async function pbkdf2(
  password: string,
  salt: Uint8Array<ArrayBuffer>,
  iterations: number,
): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(password), "PBKDF2", false, [
    "deriveBits",
  ]);
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt, iterations },
    key,
    PASSWORD_HASH.keyBits,
  );
  return new Uint8Array(bits);
}

export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(PASSWORD_HASH.saltBytes));
  const hash = await pbkdf2(password, salt, PASSWORD_HASH.iterations);
  return `${PASSWORD_HASH.algorithm}$${PASSWORD_HASH.iterations}$${base64url(salt)}$${base64url(hash)}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [algorithm, iterations, salt, hash] = stored.split("$");
  if (algorithm !== PASSWORD_HASH.algorithm || !iterations || !salt || !hash) return false;
  const n = Number(iterations);
  if (!Number.isInteger(n) || n < 1 || n > PASSWORD_HASH.iterations) return false;
  const actual = await pbkdf2(password, fromBase64url(salt), n);
  return timingSafeEqual(actual, fromBase64url(hash));
}

export function needsRehash(stored: string): boolean {
  const [algorithm, iterations] = stored.split("$");
  return algorithm !== PASSWORD_HASH.algorithm || Number(iterations) < PASSWORD_HASH.iterations;
}

/** Spends the same time as a real verification, so unknown accounts are not distinguishable. */
const DUMMY_HASH = `${PASSWORD_HASH.algorithm}$${PASSWORD_HASH.iterations}$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`;
export async function burnPasswordCheck(password: string): Promise<false> {
  await verifyPassword(password, DUMMY_HASH);
  return false;
}

function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  // workerd's own constant-time compare; typed here because the admin app's pages also see the
  // DOM's SubtleCrypto, which lacks it.
  const subtle = crypto.subtle as unknown as {
    timingSafeEqual(a: ArrayBufferView, b: ArrayBufferView): boolean;
  };
  return subtle.timingSafeEqual(a, b);
}

/** Constant-time equality of two strings (CSRF tokens, secrets echoed back by a client). */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(encoder.encode(a), encoder.encode(b));
}

/** A random secret for tokens and keys, base64url. */
export function randomSecret(bytes = 32): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** Tokens and API keys are stored as SHA-256 hex; they have enough entropy not to need salt. */
export async function sha256Hex(value: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(value));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
