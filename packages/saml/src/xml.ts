import { DOMParser, type Document, type Element, MIME_TYPE, type Node } from "@xmldom/xmldom";
import { refuse } from "./refusal.js";

export const NS = {
  protocol: "urn:oasis:names:tc:SAML:2.0:protocol",
  assertion: "urn:oasis:names:tc:SAML:2.0:assertion",
  dsig: "http://www.w3.org/2000/09/xmldsig#",
  excC14n: "http://www.w3.org/2001/10/xml-exc-c14n#",
} as const;

export const ELEMENT_NODE = 1;
export const TEXT_NODE = 3;
export const CDATA_SECTION_NODE = 4;
export const PROCESSING_INSTRUCTION_NODE = 7;
export const COMMENT_NODE = 8;

/** Real responses are a few KiB; this bounds the parse and canonicalization work per request. */
export const MAX_XML_LENGTH = 256 * 1024;

/**
 * Parses strictly: any parser warning or error refuses the document (a lenient parser and a
 * signer that disagree about the tree is how signature bypasses start), and a DOCTYPE is refused
 * outright (entity expansion and ID attributes declared by DTD have no place in SAML).
 */
export function parseXml(xml: string): Document {
  if (xml.length > MAX_XML_LENGTH) refuse("too_large", `${xml.length} characters`);
  // Before parsing, so entity declarations never reach the parser (even inside a comment).
  if (xml.includes("<!DOCTYPE")) refuse("doctype_forbidden", "document has a DOCTYPE");
  // xmldom turns whatever onError throws into a ParseError that stops parsing.
  const parser = new DOMParser({
    onError: (level, message) => {
      throw new Error(`${level}: ${message}`);
    },
  });
  let doc: Document;
  try {
    doc = parser.parseFromString(xml, MIME_TYPE.XML_TEXT);
  } catch (error) {
    return refuse("malformed_xml", error instanceof Error ? error.message : String(error));
  }
  if (!doc.documentElement) refuse("malformed_xml", "no document element");
  return doc;
}

export const isElement = (node: Node | null): node is Element =>
  node !== null && node.nodeType === ELEMENT_NODE;

export const is = (node: Element, ns: string, localName: string): boolean =>
  node.namespaceURI === ns && node.localName === localName;

/** The element children of `parent` with this name (direct children only, never descendants). */
export function children(parent: Element, ns: string, localName: string): Element[] {
  const found: Element[] = [];
  for (let node = parent.firstChild; node; node = node.nextSibling) {
    if (isElement(node) && is(node, ns, localName)) found.push(node);
  }
  return found;
}

/** The single child of that name, or null when absent; two of them is a refusal. */
export function child(parent: Element, ns: string, localName: string): Element | null {
  const found = children(parent, ns, localName);
  if (found.length > 1)
    refuse("malformed_xml", `more than one ${localName} in ${parent.localName}`);
  return found[0] ?? null;
}

/**
 * The whole text of a value element. Comments are refused rather than skipped: canonical XML
 * drops them, so `user@evil.com<!---->.example.com` keeps a valid signature, and a reader that
 * stops at the first text node would see another identity than the one signed.
 */
export function textOf(element: Element): string {
  let text = "";
  for (let node = element.firstChild; node; node = node.nextSibling) {
    if (node.nodeType === TEXT_NODE || node.nodeType === CDATA_SECTION_NODE) {
      text += node.nodeValue ?? "";
    } else if (node.nodeType === COMMENT_NODE) {
      refuse("comment_in_value", `comment inside ${element.localName}`);
    } else {
      refuse("malformed_xml", `${element.localName} must hold text only`);
    }
  }
  return text.trim();
}
