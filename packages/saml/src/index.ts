export { decodeSamlResponse } from "./base64.js";
export { certificateBase64, describeIdpCertificate, importIdpCertificate } from "./certificate.js";
export { SamlError, type SamlRefusal } from "./refusal.js";
export {
  CLOCK_SKEW_SECONDS,
  type SamlAssertion,
  type SeenAssertionIds,
  type VerifySamlResponseInput,
  verifySamlResponse,
} from "./response.js";
export { parseXml } from "./xml.js";
