import type { Element } from "@xmldom/xmldom";
import { describe, expect, it } from "vitest";
import { canonicalize } from "../src/c14n.js";
import { parseXml } from "../src/xml.js";

const c14n = (xml: string, inclusivePrefixes: string[] = [], pick = (root: Element) => root) => {
  const root = parseXml(xml).documentElement as Element;
  return canonicalize(pick(root), { inclusivePrefixes });
};

// Cases from the Exclusive XML Canonicalization 1.0 recommendation's rules; the xml-crypto
// interop test covers a whole SAML response.
describe("exclusive canonicalization", () => {
  it("keeps processing instructions, drops comments, expands empty elements, escapes", () => {
    expect(
      c14n(
        `<r a="&quot;&#9;&#10;&lt;"><?pi data?><!-- c --><e/>a &amp; &lt;b&gt;<![CDATA[<c>]]></r>`,
      ),
    ).toBe(`<r a="&quot;&#x9;&#xA;&lt;"><?pi data?><e></e>a &amp; &lt;b&gt;&lt;c&gt;</r>`);
  });

  it("declares namespaces used by a subset whose declarations sit on an ancestor", () => {
    const child = (root: Element) => root.firstChild as Element;
    expect(
      c14n(
        `<a:r xmlns:a="urn:a" xmlns:b="urn:b" xmlns:u="urn:u"><a:c b:z="1" y="2"/></a:r>`,
        [],
        child,
      ),
    ).toBe(`<a:c xmlns:a="urn:a" xmlns:b="urn:b" y="2" b:z="1"></a:c>`);
  });

  it("drops unused and redundant declarations unless the PrefixList names them", () => {
    const xml = `<a:r xmlns:a="urn:a" xmlns:u="urn:u"><a:s xmlns:a="urn:a"/></a:r>`;
    expect(c14n(xml)).toBe(`<a:r xmlns:a="urn:a"><a:s></a:s></a:r>`);
    expect(c14n(xml, ["u"])).toBe(`<a:r xmlns:a="urn:a" xmlns:u="urn:u"><a:s></a:s></a:r>`);
  });

  it("undeclares the default namespace only where an output ancestor declared one", () => {
    expect(c14n(`<r xmlns="urn:d"><x xmlns=""><y/></x></r>`)).toBe(
      `<r xmlns="urn:d"><x xmlns=""><y></y></x></r>`,
    );
    expect(c14n(`<r><x xmlns=""/></r>`)).toBe(`<r><x></x></r>`);
  });
});
