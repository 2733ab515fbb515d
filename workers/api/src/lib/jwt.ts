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

/** Verifies signature, algorithm, issuer, audience and expiry; returns null on any failure. */
export async function verifyAccessToken(cfg: Config, token: string): Promise<AccessClaims | null> {
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
    return claims.success ? claims.data : null;
  } catch {
    return null;
  }
}
