// Prints a fresh ES256 private key as a one-line JWK, for JWT_PRIVATE_KEY or AUDIT_SIGNING_KEY;
// with `--support`, a support-token key pair: SUPPORT_SIGNING_KEY (admin worker) and
// SUPPORT_VERIFY_KEY (API).
import { generateKeyPairSync, randomUUID } from "node:crypto";

export function newJwtKey() {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return JSON.stringify({ ...privateKey.export({ format: "jwk" }), kid: randomUUID().slice(0, 8) });
}

/** The admin worker signs support tokens with the private half; the API verifies with the public. */
export function newSupportKeys() {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const kid = `support-${randomUUID().slice(0, 8)}`;
  return {
    SUPPORT_SIGNING_KEY: JSON.stringify({ ...privateKey.export({ format: "jwk" }), kid }),
    SUPPORT_VERIFY_KEY: JSON.stringify({ ...publicKey.export({ format: "jwk" }), kid }),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv.includes("--support")) {
    for (const [name, value] of Object.entries(newSupportKeys())) console.log(`${name}=${value}`);
  } else {
    console.log(newJwtKey());
  }
}
