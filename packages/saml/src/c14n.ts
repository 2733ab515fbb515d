import type { Attr, Element, Node } from "@xmldom/xmldom";
import { CDATA_SECTION_NODE, ELEMENT_NODE, PROCESSING_INSTRUCTION_NODE, TEXT_NODE } from "./xml.js";

const XMLNS = "http://www.w3.org/2000/xmlns/";

export interface CanonicalizeOptions {
  /** The enveloped signature: left out with its subtree (the enveloped-signature transform). */
  exclude?: Element;
  /** InclusiveNamespaces PrefixList: these prefixes are rendered as inclusive c14n would. */
  inclusivePrefixes?: readonly string[];
}

/**
 * Exclusive XML Canonicalization 1.0 without comments (https://www.w3.org/TR/xml-exc-c14n/) of
 * one element's subtree: the subset SAML signatures use. A namespace is declared where it is
 * visibly used (or listed in the PrefixList) and not already declared the same way by an output
 * ancestor. Comments are dropped, which is why value readers must refuse them (see textOf).
 */
export function canonicalize(apex: Element, options: CanonicalizeOptions = {}): string {
  const out: string[] = [];
  writeElement(apex, new Map(), options, out);
  return out.join("");
}

function writeElement(
  element: Element,
  rendered: ReadonlyMap<string, string>,
  options: CanonicalizeOptions,
  out: string[],
): void {
  const wanted = new Map<string, string>([[element.prefix ?? "", element.namespaceURI ?? ""]]);
  const attributes: Attr[] = [];
  for (let i = 0; i < element.attributes.length; i++) {
    const attribute = element.attributes.item(i);
    if (!attribute || attribute.namespaceURI === XMLNS) continue;
    attributes.push(attribute);
    if (attribute.prefix && attribute.prefix !== "xml") {
      wanted.set(attribute.prefix, attribute.namespaceURI ?? "");
    }
  }
  for (const listed of options.inclusivePrefixes ?? []) {
    const prefix = listed === "#default" ? "" : listed;
    const uri = element.lookupNamespaceURI(prefix || null);
    if (uri !== null || prefix === "") wanted.set(prefix, uri ?? "");
  }

  const scope = new Map(rendered);
  const declarations: string[] = [];
  for (const [prefix, uri] of [...wanted].sort(([a], [b]) => compare(a, b))) {
    // Nothing declared the default namespace yet: an empty one needs no xmlns="".
    const current = rendered.get(prefix) ?? (prefix === "" ? "" : undefined);
    if (current === uri) continue;
    scope.set(prefix, uri);
    declarations.push(` ${prefix ? `xmlns:${prefix}` : "xmlns"}="${escapeAttribute(uri)}"`);
  }
  attributes.sort(
    (a, b) =>
      compare(a.namespaceURI ?? "", b.namespaceURI ?? "") ||
      compare(a.localName ?? "", b.localName ?? ""),
  );

  out.push(`<${element.nodeName}`, ...declarations);
  for (const attribute of attributes) {
    out.push(` ${attribute.nodeName}="${escapeAttribute(attribute.value)}"`);
  }
  out.push(">");
  for (let node: Node | null = element.firstChild; node; node = node.nextSibling) {
    if (node === options.exclude) continue;
    switch (node.nodeType) {
      case ELEMENT_NODE:
        writeElement(node as Element, scope, options, out);
        break;
      case TEXT_NODE:
      case CDATA_SECTION_NODE:
        out.push(escapeText(node.nodeValue ?? ""));
        break;
      case PROCESSING_INSTRUCTION_NODE: {
        const data = node.nodeValue ?? "";
        out.push(`<?${node.nodeName}${data ? ` ${data}` : ""}?>`);
        break;
      }
      // Comments (and anything else) are not part of the canonical form.
    }
  }
  out.push(`</${element.nodeName}>`);
}

// Code-point order of the UTF-16 strings, as the spec asks (not locale order).
const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const escapeText = (text: string): string =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/\r/g, "&#xD;");

const escapeAttribute = (value: string): string =>
  value
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/"/g, "&quot;")
    .replace(/\t/g, "&#x9;")
    .replace(/\n/g, "&#xA;")
    .replace(/\r/g, "&#xD;");
