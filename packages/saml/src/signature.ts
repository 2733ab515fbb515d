import type { Element } from "@xmldom/xmldom";
import { decodeBase64, encodeBase64 } from "./base64.js";
import { canonicalize } from "./c14n.js";
import { refuse } from "./refusal.js";
import { child, children, NS, textOf } from "./xml.js";

/** The only algorithms accepted: RSA-SHA256 signatures, SHA-256 digests, exclusive c14n. */
export const ALGORITHMS = {
  signature: "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
  digest: "http://www.w3.org/2001/04/xmlenc#sha256",
  canonicalization: NS.excC14n,
  transforms: ["http://www.w3.org/2000/09/xmldsig#enveloped-signature", NS.excC14n],
} as const;

const RSA = { name: "RSASSA-PKCS1-v1_5" } as const;

/**
 * Verifies `signature`, a direct child of `signed`, as an enveloped signature over exactly
 * `signed`: one reference, whose URI is `signed`'s own ID (IDs are unique in the document,
 * checked by the caller), so what is verified is the element the caller goes on to read.
 * Any of `keys` may have signed it (certificate rollover). KeyInfo is ignored: the keys come
 * from the connection, never from the message.
 */
export async function verifyEnvelopedSignature(
  signed: Element,
  signature: Element,
  keys: readonly CryptoKey[],
): Promise<void> {
  const where = `${signed.localName} signature`;
  const signedInfo = required(child(signature, NS.dsig, "SignedInfo"), where, "SignedInfo");
  const c14n = required(
    child(signedInfo, NS.dsig, "CanonicalizationMethod"),
    where,
    "CanonicalizationMethod",
  );
  allow(c14n, ALGORITHMS.canonicalization, `${where} canonicalization`);
  const method = required(child(signedInfo, NS.dsig, "SignatureMethod"), where, "SignatureMethod");
  allow(method, ALGORITHMS.signature, `${where} method`);

  const references = children(signedInfo, NS.dsig, "Reference");
  const id = signed.getAttribute("ID");
  if (references.length !== 1 || !id || references[0]?.getAttribute("URI") !== `#${id}`) {
    refuse(
      "signature_reference_mismatch",
      `${where} must have one reference, to #${id ?? "(no ID)"}`,
    );
  }
  const reference = references[0] as Element;
  const transforms = children(
    required(child(reference, NS.dsig, "Transforms"), where, "Transforms"),
    NS.dsig,
    "Transform",
  );
  const transformAlgorithms = transforms.map((t) => t.getAttribute("Algorithm"));
  if (transformAlgorithms.join(" ") !== ALGORITHMS.transforms.join(" ")) {
    refuse(
      "signature_algorithm_forbidden",
      `${where} transforms: ${transformAlgorithms.join(", ")}`,
    );
  }
  const digestMethod = required(child(reference, NS.dsig, "DigestMethod"), where, "DigestMethod");
  allow(digestMethod, ALGORITHMS.digest, `${where} digest`);

  const canonical = canonicalize(signed, {
    exclude: signature,
    inclusivePrefixes: prefixList(transforms[1] as Element),
  });
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", utf8(canonical)));
  const expected = textOf(required(child(reference, NS.dsig, "DigestValue"), where, "DigestValue"));
  if (encodeBase64(digest) !== expected.replace(/\s+/g, "")) {
    refuse("digest_mismatch", `${where}: the signed content was changed`);
  }

  const value = decodeBase64(
    textOf(required(child(signature, NS.dsig, "SignatureValue"), where, "SignatureValue")),
    "SignatureValue",
  );
  const signedBytes = utf8(canonicalize(signedInfo, { inclusivePrefixes: prefixList(c14n) }));
  for (const key of keys) {
    if (await crypto.subtle.verify(RSA, key, value, signedBytes)) return;
  }
  refuse("bad_signature", `${where} was not made by a configured certificate`);
}

function required(element: Element | null, where: string, name: string): Element {
  return element ?? refuse("malformed_xml", `${where} has no ${name}`);
}

function allow(element: Element, algorithm: string, what: string): void {
  const actual = element.getAttribute("Algorithm");
  if (actual !== algorithm) refuse("signature_algorithm_forbidden", `${what}: ${actual}`);
}

/** The PrefixList of an exc-c14n InclusiveNamespaces child, if any. */
function prefixList(c14nElement: Element): string[] {
  const inclusive = child(c14nElement, NS.excC14n, "InclusiveNamespaces");
  return (inclusive?.getAttribute("PrefixList") ?? "").split(/\s+/).filter(Boolean);
}

const utf8 = (text: string) => new TextEncoder().encode(text);
