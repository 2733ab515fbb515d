import { refuse } from "./refusal.js";

/** Standard base64 as XML carries it: whitespace and line breaks inside are allowed. */
export function decodeBase64(value: string, what: string): Uint8Array<ArrayBuffer> {
  try {
    return Uint8Array.from(atob(value.replace(/\s+/g, "")), (c) => c.charCodeAt(0));
  } catch {
    return refuse("malformed_xml", `${what} is not base64`);
  }
}

export const encodeBase64 = (bytes: Uint8Array): string =>
  btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join(""));

/** The HTTP-POST binding's SAMLResponse form value, decoded to the XML text it carries. */
export function decodeSamlResponse(formValue: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(
      decodeBase64(formValue, "SAMLResponse"),
    );
  } catch (error) {
    if (error instanceof Error && error.name === "SamlError") throw error;
    return refuse("malformed_xml", "SAMLResponse is not UTF-8");
  }
}
