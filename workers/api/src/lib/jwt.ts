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
