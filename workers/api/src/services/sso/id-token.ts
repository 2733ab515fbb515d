import { createRemoteJWKSet, errors, jwtVerify } from "jose";
import { z } from "zod";

/** Asymmetric algorithms only: `none` and HMAC (keyed with the client secret) are refused. */
export const ALLOWED_ALGORITHMS = ["RS256", "ES256"];
/** Clock skew tolerated between us and the provider. */
const SKEW_SECONDS = 60;

// Per-isolate cache of each provider's key set (jose refetches on an unknown kid): an
// optimisation only, every token is still verified.
const keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();
function keySet(jwksUri: string) {
  let set = keySets.get(jwksUri);
  if (!set) {
    set = createRemoteJWKSet(new URL(jwksUri));
    keySets.set(jwksUri, set);
  }
  return set;
}

export const IdClaimsSchema = z.object({
  sub: z.string().min(1),
  email: z.email().toLowerCase(),
  email_verified: z.boolean().optional(),
  nonce: z.string(),
  name: z.string().optional(),
});
export type IdClaims = z.infer<typeof IdClaimsSchema> & Record<string, unknown>;

/** Why an ID token was refused, as the audit log records it. */
export class IdTokenError extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

function reasonOf(err: unknown): string {
  if (err instanceof errors.JWTExpired) return "id_token_expired";
  if (err instanceof errors.JWTClaimValidationFailed) return `id_token_${err.claim}_mismatch`;
  if (err instanceof errors.JOSEAlgNotAllowed) return "id_token_algorithm_not_allowed";
  if (err instanceof errors.JWKSNoMatchingKey) return "id_token_unknown_key";
  if (err instanceof errors.JWSSignatureVerificationFailed) return "id_token_bad_signature";
  return "id_token_invalid";
}

/**
 * Checks an ID token (OpenID Connect Core §3.1.3.7): signature by a key of the provider's JWKS
 * with an allowed algorithm, issuer, audience (our client id), expiry, and the nonce this sign-in
 * sent. The claims are parsed only after all of that holds.
 */
export async function verifyIdToken(
  token: string,
  expected: { issuer: string; clientId: string; jwksUri: string; nonce: string },
): Promise<IdClaims> {
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, keySet(expected.jwksUri), {
      issuer: expected.issuer,
      audience: expected.clientId,
      algorithms: ALLOWED_ALGORITHMS,
      clockTolerance: SKEW_SECONDS,
      requiredClaims: ["exp", "iat", "sub"],
    }));
  } catch (err) {
    throw new IdTokenError(reasonOf(err));
  }
  if (payload.nonce !== expected.nonce) throw new IdTokenError("id_token_nonce_mismatch");
  const claims = IdClaimsSchema.safeParse(payload);
  if (!claims.success) throw new IdTokenError("id_token_missing_email");
  if (claims.data.email_verified === false) throw new IdTokenError("email_not_verified");
  return { ...payload, ...claims.data };
}
