// Prints a fresh ES256 private key as a one-line JWK, for JWT_PRIVATE_KEY or AUDIT_SIGNING_KEY.
import { generateKeyPairSync, randomUUID } from "node:crypto";

export function newJwtKey() {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return JSON.stringify({ ...privateKey.export({ format: "jwk" }), kid: randomUUID().slice(0, 8) });
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(newJwtKey());
