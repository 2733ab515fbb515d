/** The development outbox page: JSON for scripts, a page with clickable links for browsers. */
import { env } from "cloudflare:workers";
import { newId } from "@tenantry/schema";
import { describe, expect, it } from "vitest";
import { mailer } from "../src/services/mailer";
import { api, lastMail, uniqueSlug } from "./helpers";

const BROWSER = { accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8" };

async function mailTo(to: string, subject: string, text: string, tenantId: string | null = null) {
  await mailer(env).send({ to, subject, text, tenantId });
  return (await lastMail(to, subject))!;
}

describe("GET /_dev/outbox", () => {
  it("shows a browser a page of mails, newest first, with every URL a link", async () => {
    const to = `${uniqueSlug("page")}@example.com`;
    const tenantId = newId("tenant");
    await mailTo(to, "First", "Old news.");
    await mailTo(
      to,
      "Second",
      "Verify: http://acme.localhost:8787/verify-email?token=a%2Bb&x=1.\nDocs (https://example.com/docs).",
      tenantId,
    );
    const res = await api("GET", `/_dev/outbox?to=${encodeURIComponent(to)}`, { headers: BROWSER });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(res.headers.get("content-security-policy")).toBe(
      "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    const page: string = res.body;
    expect(page.indexOf("<h2>Second</h2>")).toBeLessThan(page.indexOf("<h2>First</h2>"));
    expect(page).toContain(
      '<a href="http://acme.localhost:8787/verify-email?token=a%2Bb&amp;x=1" rel="noreferrer">http://acme.localhost:8787/verify-email?token=a%2Bb&amp;x=1</a>.',
    );
    expect(page).toContain(
      '(<a href="https://example.com/docs" rel="noreferrer">https://example.com/docs</a>).',
    );
    expect(page).toContain(`<dd>${to}</dd>`);
    expect(page).toContain(`<dd>${tenantId}</dd>`);
    expect(page).toMatch(/<time datetime="\d{4}-\d\d-\d\dT[\d:.]+Z">/);
  });

  it("escapes everything a mail holds: no markup from a subject, a body or a link gets through", async () => {
    const to = `${uniqueSlug("xss")}@example.com`;
    await mailTo(
      to,
      `<script>alert("subject")</script>`,
      `<img src=x onerror=alert(1)> & https://evil.example/"><script>alert(2)</script>\njavascript:alert(3)`,
    );
    const res = await api("GET", `/_dev/outbox?to=${encodeURIComponent(to)}`, { headers: BROWSER });
    const page: string = res.body;
    expect(page).not.toContain("<script");
    expect(page).not.toContain("<img");
    expect(page).toContain("&lt;script&gt;alert(&quot;subject&quot;)&lt;/script&gt;");
    expect(page).toContain("&lt;img src=x onerror=alert(1)&gt; &amp; ");
    // The link stops where the URL does; the rest is text.
    expect(page).toContain(
      '<a href="https://evil.example/" rel="noreferrer">https://evil.example/</a>&quot;&gt;&lt;script&gt;',
    );
    expect(page).not.toContain('href="javascript:');
  });

  it("answers JSON to ?format=json, Accept: application/json and clients that do not ask for HTML", async () => {
    const to = `${uniqueSlug("json")}@example.com`;
    await mailTo(to, "Hello", "Text");
    for (const [query, headers] of [
      ["&format=json", BROWSER],
      ["", { accept: "application/json" }],
      ["", { accept: "*/*" }],
      ["", {}],
    ] as const) {
      const res = await api("GET", `/_dev/outbox?to=${encodeURIComponent(to)}${query}`, {
        headers,
      });
      expect(res.headers.get("content-type")).toContain("application/json");
      expect(res.body.data).toEqual([
        expect.objectContaining({ to, subject: "Hello", text: "Text", tenantId: null }),
      ]);
    }
  });
});
