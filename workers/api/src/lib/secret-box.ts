import { base64url, fromBase64url } from "@tenantry/core/crypto";

/**
 * Secrets the platform must read back (an IdP's client secret) are sealed with AES-256-GCM under
 * SSO_ENCRYPTION_KEY: `v1.<iv>.<ciphertext>`. The tenant id is the additional data, so a sealed
 * value copied into another tenant's database does not open there.
 */
const VERSION = "v1";

async function importKey(keyB64: string) {
  const raw = fromBase64url(keyB64);
  if (raw.length !== 32) throw new Error("SSO_ENCRYPTION_KEY must be 32 bytes, base64url");
  return crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
}

export async function seal(keyB64: string, context: string, plaintext: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: new TextEncoder().encode(context) },
    await importKey(keyB64),
    new TextEncoder().encode(plaintext),
  );
  return `${VERSION}.${base64url(iv)}.${base64url(ct)}`;
}

export async function open(keyB64: string, context: string, sealed: string): Promise<string> {
  const [version, iv, ct] = sealed.split(".");
  if (version !== VERSION || !iv || !ct) throw new Error("not a sealed value");
  const pt = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: fromBase64url(iv), additionalData: new TextEncoder().encode(context) },
    await importKey(keyB64),
    fromBase64url(ct),
  );
  return new TextDecoder().decode(pt);
}
