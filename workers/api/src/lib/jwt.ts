import { base64url, fromBase64url } from "@tenantry/core/crypto";
import { type CryptoKey, importJWK, type JWK, jwtVerify, SignJWT } from "jose";
import { z } from "zod";
import type { Config } from "../env";

/** Access tokens: ES256, ≤ 15 minutes, issuer and audience pinned. */
export const ACCESS_TOKEN_TTL_SECONDS = 900;
const ALG = "ES256";

export const AccessClaimsSchema = z.object({
  sub: z.string().startsWith("usr_"),
  tid: z.string().startsWith("ten_"),
  sid: z.string().startsWith("ses_"),
});
export type AccessClaims = z.infer<typeof AccessClaimsSchema>;

interface KeyPair {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

// Imported keys are cached per isolate by their JWK text: an optimisation only.
const keyCache = new Map<string, Promise<KeyPair>>();

function keys(cfg: Config): Promise<KeyPair> {
  let pair = keyCache.get(cfg.JWT_PRIVATE_KEY);
  if (!pair) {
    pair = (async () => {
      const jwk = JSON.parse(cfg.JWT_PRIVATE_KEY) as JWK;
      const { d: _d, ...publicJwk } = jwk;
      return {
        kid: jwk.kid ?? "default",
        privateKey: (await importJWK(jwk, ALG)) as CryptoKey,
        publicKey: (await importJWK(publicJwk, ALG)) as CryptoKey,
      };
    })();
    keyCache.set(cfg.JWT_PRIVATE_KEY, pair);
  }
  return pair;
}

export async function signAccessToken(cfg: Config, claims: AccessClaims): Promise<string> {
  const { kid, privateKey } = await keys(cfg);
  return new SignJWT({ tid: claims.tid, sid: claims.sid })
    .setProtectedHeader({ alg: ALG, kid, typ: "at+jwt" })
    .setSubject(claims.sub)
    .setIssuer(cfg.JWT_ISSUER)
    .setAudience(cfg.JWT_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(`${ACCESS_TOKEN_TTL_SECONDS}s`)
    .sign(privateKey);
}

interface Verified {
  claims: AccessClaims;
  /** Epoch ms after which the token is no longer acceptable (expiry or maximum age). */
  until: number;
}

// Tokens that verified, per configuration, until they lapse: a signature check per request is
// wasted work for a token this isolate already checked. Keyed by the whole token, so any
// alteration misses; failures are never cached.
const verifiedByConfig = new WeakMap<Config, Map<string, Verified>>();
const VERIFIED_LIMIT = 10_000;

/** Verifies signature, algorithm, issuer, audience and expiry; returns null on any failure. */
export async function verifyAccessToken(cfg: Config, token: string): Promise<AccessClaims | null> {
  let verified = verifiedByConfig.get(cfg);
  if (!verified) {
    verified = new Map();
    verifiedByConfig.set(cfg, verified);
  }
  const hit = verified.get(token);
  if (hit) {
    if (hit.until > Date.now()) return hit.claims;
    verified.delete(token);
  }
  const result = await verifySignedToken(cfg, token);
  if (!result) return null;
  if (verified.size >= VERIFIED_LIMIT) verified.clear();
  verified.set(token, result);
  return result.claims;
}

async function verifySignedToken(cfg: Config, token: string): Promise<Verified | null> {
  try {
    const { publicKey } = await keys(cfg);
    const { payload } = await jwtVerify(token, publicKey, {
      algorithms: [ALG],
      issuer: cfg.JWT_ISSUER,
      audience: cfg.JWT_AUDIENCE,
      requiredClaims: ["exp", "iat", "sub"],
      maxTokenAge: `${ACCESS_TOKEN_TTL_SECONDS}s`,
    });
    const claims = AccessClaimsSchema.safeParse(payload);
    if (!claims.success || !payload.exp || !payload.iat) return null;
    const until = Math.min(payload.exp, payload.iat + ACCESS_TOKEN_TTL_SECONDS) * 1000;
    return { claims: claims.data, until };
  } catch {
    return null;
  }
}

// The refresh-token MAC key, derived from the signing key (no second secret to manage).
const macKeys = new Map<string, Promise<CryptoKey>>();

function refreshMacKey(cfg: Config): Promise<CryptoKey> {
  let key = macKeys.get(cfg.JWT_PRIVATE_KEY);
  if (!key) {
    key = (async () => {
      const d = (JSON.parse(cfg.JWT_PRIVATE_KEY) as JWK).d ?? "";
      const material = await crypto.subtle.importKey(
        "raw",
        new TextEncoder().encode(d),
        "HKDF",
        false,
        ["deriveKey"],
      );
      return crypto.subtle.deriveKey(
        {
          name: "HKDF",
          hash: "SHA-256",
          salt: new Uint8Array(0),
          info: new TextEncoder().encode("tenantry refresh token v1"),
        },
        material,
        { name: "HMAC", hash: "SHA-256", length: 256 },
        false,
        ["sign", "verify"],
      );
    })();
    macKeys.set(cfg.JWT_PRIVATE_KEY, key);
  }
  return key;
}

/**
 * A refresh secret for a session: a random nonce and a MAC over the session id and the nonce,
 * so the server can later tell a secret it issued (an old one: reuse) from one made up.
 */
export async function issueRefreshSecret(cfg: Config, sid: string): Promise<string> {
  const nonce = base64url(crypto.getRandomValues(new Uint8Array(24)));
  const mac = await crypto.subtle.sign(
    "HMAC",
    await refreshMacKey(cfg),
    new TextEncoder().encode(`${sid}.${nonce}`),
  );
  return `${nonce}.${base64url(mac)}`;
}

/** Whether this server issued `secret` for session `sid` (at any time). */
export async function wasRefreshSecretIssued(cfg: Config, sid: string, secret: string) {
  const [nonce, mac, ...rest] = secret.split(".");
  if (!nonce || !mac || rest.length > 0) return false;
  try {
    return await crypto.subtle.verify(
      "HMAC",
      await refreshMacKey(cfg),
      fromBase64url(mac),
      new TextEncoder().encode(`${sid}.${nonce}`),
    );
  } catch {
    return false;
  }
}

/**
 * A signed, expiring token for one purpose (a mailed confirmation link): the same signing key as
 * access tokens, but its own audience and type, so neither can stand in for the other.
 */
export async function signPurposeToken(
  cfg: Config,
  purpose: string,
  claims: Record<string, string>,
  ttlSeconds: number,
): Promise<string> {
  const { kid, privateKey } = await keys(cfg);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: ALG, kid, typ: `${purpose}+jwt` })
    .setIssuer(cfg.JWT_ISSUER)
    .setAudience(`${cfg.JWT_AUDIENCE}:${purpose}`)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(privateKey);
}

export async function verifyPurposeToken<T extends z.ZodType>(
  cfg: Config,
  purpose: string,
  token: string,
  schema: T,
): Promise<z.infer<T> | null> {
  try {
    const { publicKey } = await keys(cfg);
    const { payload, protectedHeader } = await jwtVerify(token, publicKey, {
      algorithms: [ALG],
      issuer: cfg.JWT_ISSUER,
      audience: `${cfg.JWT_AUDIENCE}:${purpose}`,
      requiredClaims: ["exp"],
    });
    if (protectedHeader.typ !== `${purpose}+jwt`) return null;
    const parsed = schema.safeParse(payload);
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
