export { decodeSamlResponse } from "./base64.js";
export { importIdpCertificate } from "./certificate.js";
export { SamlError, type SamlRefusal } from "./refusal.js";
export {
  CLOCK_SKEW_SECONDS,
  type SamlAssertion,
  type SeenAssertionIds,
  type VerifySamlResponseInput,
  verifySamlResponse,
} from "./response.js";
