import { SUPPORT_TOKEN_AUDIENCE, SUPPORT_TOKEN_TYPE } from "@tenantry/core";
import { type CryptoKey, decodeProtectedHeader, importJWK, type JWK, jwtVerify } from "jose";
import { z } from "zod";
import type { Config } from "../env";

/** A support token's claims after verification (minted by `mintSupportToken` in core). */
export const SupportClaimsSchema = z.object({
  sub: z.string().startsWith("usr_"),
  tid: z.string().startsWith("ten_"),
  sid: z.string().startsWith("sup_"),
  mode: z.enum(["read", "write"]),
  act: z.object({ sub: z.string().startsWith("operator:"), email: z.string() }),
});
export type SupportClaims = z.infer<typeof SupportClaimsSchema>;

/** Whether a bearer credential claims to be a support token (its header's `typ`). */
export function looksLikeSupportToken(token: string): boolean {
  try {
    return decodeProtectedHeader(token).typ === SUPPORT_TOKEN_TYPE;
  } catch {
    return false;
  }
}

// The imported verify key, per isolate, by its JWK text: an optimisation only.
const verifyKeys = new Map<string, Promise<CryptoKey>>();

function verifyKey(jwkText: string): Promise<CryptoKey> {
  let key = verifyKeys.get(jwkText);
  if (!key) {
    key = importJWK(JSON.parse(jwkText) as JWK, "ES256") as Promise<CryptoKey>;
    verifyKeys.set(jwkText, key);
  }
  return key;
}

/**
 * Verifies a support token against SUPPORT_VERIFY_KEY: signature, ES256, issuer (this API's
 * JWT_ISSUER), the support audience and `typ`, expiry. Null on any failure, or when no key is
 * configured. Whether the session is still active is the caller's check (the control row).
 */
export async function verifySupportToken(
  cfg: Config,
  token: string,
): Promise<SupportClaims | null> {
  if (!cfg.SUPPORT_VERIFY_KEY) return null;
  try {
    const { payload, protectedHeader } = await jwtVerify(
      token,
      await verifyKey(cfg.SUPPORT_VERIFY_KEY),
      {
        algorithms: ["ES256"],
        issuer: cfg.JWT_ISSUER,
        audience: SUPPORT_TOKEN_AUDIENCE,
        typ: SUPPORT_TOKEN_TYPE,
        requiredClaims: ["exp", "iat", "sub"],
      },
    );
    if (protectedHeader.typ !== SUPPORT_TOKEN_TYPE) return null;
    const claims = SupportClaimsSchema.safeParse(payload);
    return claims.success ? claims.data : null;
  } catch {
    return null;
  }
}
