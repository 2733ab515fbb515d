/**
 * Why a SAML response was refused. A closed list, so callers can log and audit the reason and
 * tests can assert it; the detail is for logs only, never shown to the browser.
 */
export type SamlRefusal =
  | "too_large"
  | "malformed_xml"
  | "doctype_forbidden"
  | "not_a_response"
  | "unsupported_version"
  | "status_not_success"
  | "encrypted_assertion_unsupported"
  | "assertion_count"
  | "duplicate_id"
  | "unsigned"
  | "signature_reference_mismatch"
  | "signature_algorithm_forbidden"
  | "digest_mismatch"
  | "bad_signature"
  | "issuer_mismatch"
  | "destination_mismatch"
  | "recipient_mismatch"
  | "no_bearer_confirmation"
  | "in_response_to_mismatch"
  | "unsolicited"
  | "not_yet_valid"
  | "expired"
  | "audience_mismatch"
  | "missing_name_id"
  | "comment_in_value"
  | "replayed";

export class SamlError extends Error {
  override readonly name = "SamlError";
  constructor(
    readonly reason: SamlRefusal,
    readonly detail: string,
  ) {
    super(`SAML response refused (${reason}): ${detail}`);
  }
}

export const refuse = (reason: SamlRefusal, detail: string): never => {
  throw new SamlError(reason, detail);
};
