/**
 * Turns an IdP signing certificate (PEM, or the bare base64 found in IdP metadata) into a
 * WebCrypto RSA-SHA256 verification key. Only the public key is used: as every SAML SP does, the
 * certificate is pinned per connection, so its chain and validity dates are not evaluated.
 * Throws (a configuration error, at connection setup) for anything but an RSA key of 2048+ bits.
 */
export async function importIdpCertificate(certificate: string): Promise<CryptoKey> {
  const der = Uint8Array.from(atob(certificateBase64(certificate)), (c) => c.charCodeAt(0));
  const key = await crypto.subtle.importKey(
    "spki",
    subjectPublicKeyInfo(der),
    { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
    false,
    ["verify"],
  );
  // Read without a cast: the DOM and the workers' type libraries describe KeyAlgorithm differently.
  const bits = "modulusLength" in key.algorithm ? Number(key.algorithm.modulusLength) : 0;
  if (bits < MIN_RSA_BITS)
    throw new Error(`IdP signing key has ${bits} bits, fewer than ${MIN_RSA_BITS}`);
  return key;
}

const MIN_RSA_BITS = 2048;

/** The bare base64 DER of a certificate given as PEM or base64, whitespace removed. */
export const certificateBase64 = (certificate: string) =>
  certificate.replace(/-----(BEGIN|END) CERTIFICATE-----/g, "").replace(/\s+/g, "");

/**
 * What an owner compares with the IdP's console: the SHA-256 fingerprint of the certificate
 * (colon-separated hex, as IdPs show it) and its notAfter. The expiry is shown, not enforced.
 */
export async function describeIdpCertificate(certificate: string) {
  const der = Uint8Array.from(atob(certificateBase64(certificate)), (c) => c.charCodeAt(0));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", der));
  const fingerprint = [...digest].map((b) => b.toString(16).padStart(2, "0").toUpperCase());
  return { sha256: fingerprint.join(":"), notAfter: notAfter(der) };
}

/** Certificate → tbsCertificate → validity (after the optional version, serial, algorithm, issuer). */
function notAfter(der: Uint8Array): Date {
  const tbs = readTlv(der, readTlv(der, 0).start);
  let field = readTlv(der, tbs.start);
  if (field.tag === VERSION_TAG) field = readTlv(der, field.end);
  for (let i = 0; i < 3; i++) field = readTlv(der, field.end);
  const after = readTlv(der, readTlv(der, field.start).end);
  const text = new TextDecoder().decode(der.slice(after.start, after.end));
  // UTCTime YYMMDDHHMMSSZ (years 1950–2049) or GeneralizedTime YYYYMMDDHHMMSSZ (RFC 5280 §4.1.2.5).
  const full =
    after.tag === UTC_TIME ? `${Number(text.slice(0, 2)) < 50 ? "20" : "19"}${text}` : text;
  const [y, mo, d, h, mi, s] = [0, 4, 6, 8, 10, 12].map((at, i) =>
    Number(full.slice(at, i === 0 ? 4 : at + 2)),
  );
  return new Date(Date.UTC(y ?? 0, (mo ?? 1) - 1, d, h, mi, s));
}

const UTC_TIME = 0x17;

interface Tlv {
  tag: number;
  /** Where the contents start and end; `end` is also where the next TLV starts. */
  start: number;
  end: number;
  headerStart: number;
}

function readTlv(der: Uint8Array, offset: number): Tlv {
  const tag = der[offset];
  let length = der[offset + 1];
  if (tag === undefined || length === undefined) throw new Error("truncated certificate");
  let start = offset + 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    if (octets < 1 || octets > 4) throw new Error("unsupported certificate length");
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + (der[start + i] ?? 0);
    start += octets;
  }
  const end = start + length;
  if (end > der.length) throw new Error("truncated certificate");
  return { tag, start, end, headerStart: offset };
}

const SEQUENCE = 0x30;
const VERSION_TAG = 0xa0;

/** Certificate → tbsCertificate → the seventh field (sixth without the optional version). */
function subjectPublicKeyInfo(der: Uint8Array): Uint8Array<ArrayBuffer> {
  const certificate = readTlv(der, 0);
  const tbs = readTlv(der, certificate.start);
  if (certificate.tag !== SEQUENCE || tbs.tag !== SEQUENCE) throw new Error("not a certificate");
  let field = readTlv(der, tbs.start);
  if (field.tag === VERSION_TAG) field = readTlv(der, field.end);
  // serial, signature algorithm, issuer, validity, subject, then the key.
  for (let i = 0; i < 5; i++) field = readTlv(der, field.end);
  if (field.tag !== SEQUENCE) throw new Error("certificate has no subject public key");
  return der.slice(field.headerStart, field.end);
}
