import { z } from "zod";

/**
 * Signed checkpoints of an audit chain (ADR 012): `(scope, seq, head_hash, signed_at)` signed
 * with ES256 by `AUDIT_SIGNING_KEY`. Whoever rewrites a whole chain consistently cannot sign its
 * new head, so the checkpoint no longer matches it.
 */

export interface Checkpoint {
  /** A tenant id, or `platform` for the operator log. */
  scope: string;
  seq: number;
  head_hash: string;
  signed_at: number;
  key_id: string;
  /** ECDSA P-256 / SHA-256 over `checkpointMessage`, raw `r‖s`, base64url (as in a JWS). */
  signature: string;
}

export interface AuditPublicKey {
  kty: "EC";
  crv: "P-256";
  x: string;
  y: string;
  kid: string;
  alg: "ES256";
  use: "sig";
}

/** The exact bytes a checkpoint's signature covers: UTF-8 of these five lines. */
function checkpointMessage(cp: Omit<Checkpoint, "key_id" | "signature">): string {
  return `tenantry-audit-checkpoint/v1\n${cp.scope}\n${cp.seq}\n${cp.head_hash}\n${cp.signed_at}`;
}

const ALG = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGN = { name: "ECDSA", hash: "SHA-256" } as const;

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  jwk: AuditPublicKey;
}

// Imported once per key string and isolate: importing costs more than signing.
const keys = new Map<string, Promise<SigningKey>>();

/** `AUDIT_SIGNING_KEY`: an EC P-256 private JWK (one line of JSON) with a `kid`. */
function auditSigningKey(secret: string): Promise<SigningKey> {
  let key = keys.get(secret);
  if (!key) {
    key = importSigningKey(secret);
    keys.set(secret, key);
  }
  return key;
}

const PrivateJwkSchema = z.object({
  kty: z.literal("EC"),
  crv: z.literal("P-256"),
  x: z.string().min(1),
  y: z.string().min(1),
  d: z.string().min(1),
  kid: z.string().min(1),
});

/** What a worker's config checks `AUDIT_SIGNING_KEY` against, so a bad key fails at startup. */
export const AuditSigningKeySchema = z
  .string()
  .min(1, "AUDIT_SIGNING_KEY is not set: see .dev.vars.example")
  .refine((secret) => {
    try {
      return PrivateJwkSchema.safeParse(JSON.parse(secret)).success;
    } catch {
      return false;
    }
  }, "AUDIT_SIGNING_KEY must be an EC P-256 private JWK with a kid: node scripts/jwt-key.mjs");

async function importSigningKey(secret: string): Promise<SigningKey> {
  const jwk = PrivateJwkSchema.parse(JSON.parse(secret));
  const pub: AuditPublicKey = {
    kty: "EC",
    crv: "P-256",
    x: jwk.x,
    y: jwk.y,
    kid: jwk.kid,
    alg: "ES256",
    use: "sig",
  };
  const { kid: _kid, ...material } = jwk;
  return {
    kid: jwk.kid,
    privateKey: await crypto.subtle.importKey("jwk", material, ALG, false, ["sign"]),
    publicKey: await crypto.subtle.importKey(
      "jwk",
      { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y },
      ALG,
      false,
      ["verify"],
    ),
    jwk: pub,
  };
}

const encoder = new TextEncoder();

function base64url(bytes: ArrayBuffer): string {
  return btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

function fromBase64url(text: string): Uint8Array<ArrayBuffer> | null {
  try {
    const bin = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

export async function signCheckpoint(
  secret: string,
  head: { scope: string; seq: number; head_hash: string },
  now = Date.now(),
): Promise<Checkpoint> {
  const key = await auditSigningKey(secret);
  const unsigned = { ...head, signed_at: now };
  const sig = await crypto.subtle.sign(
    SIGN,
    key.privateKey,
    encoder.encode(checkpointMessage(unsigned)),
  );
  return { ...unsigned, key_id: key.kid, signature: base64url(sig) };
}

/** True when `cp` carries a valid signature by the current key. */
export async function checkpointSigned(secret: string, cp: Checkpoint): Promise<boolean> {
  const key = await auditSigningKey(secret);
  const sig = fromBase64url(cp.signature);
  if (cp.key_id !== key.kid || !sig) return false;
  return crypto.subtle.verify(SIGN, key.publicKey, sig, encoder.encode(checkpointMessage(cp)));
}

/** The public half, as a JWK Set: what `/.well-known/audit-keys` publishes. */
export async function auditPublicKeys(secret: string): Promise<{ keys: AuditPublicKey[] }> {
  return { keys: [(await auditSigningKey(secret)).jwk] };
}
