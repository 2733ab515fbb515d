/** Settings and branding: the organisation's name, accent colour and logo (ADR 020). */
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { findTenantById } from "../src/services/registry";
import { addMember, api, auditRows, createTenant, expectProblem, type TestTenant } from "./helpers";

const PNG = new Uint8Array([
  0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52,
]);
const SVG = new TextEncoder().encode(
  '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
);

/** Uploads raw bytes, as the app does (the shared helper sends JSON only). */
async function putLogo(t: TestTenant, bytes: Uint8Array, type = "image/png") {
  const res = await exports.default.fetch(`http://${t.slug}.localhost:8787/v1/settings/logo`, {
    method: "PUT",
    headers: { authorization: `Bearer ${t.owner.token}`, "content-type": type },
    body: bytes,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

async function getLogo(slug: string, token: string) {
  const res = await exports.default.fetch(`http://${slug}.localhost:8787/v1/settings/logo`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return {
    status: res.status,
    headers: res.headers,
    bytes: new Uint8Array(await res.arrayBuffer()),
  };
}

const as = (t: TestTenant) => ({ slug: t.slug, token: t.owner.token });

describe("PATCH /v1/settings", () => {
  it("renames the organisation in the registry, at once for the next request, audited", async () => {
    const t = await createTenant();
    const res = await api("PATCH", "/v1/settings", { ...as(t), body: { name: "  Acme Ltd " } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ name: "Acme Ltd", accent_color: null, logo: null });
    expect((await findTenantById(env, t.tenant.id))?.name).toBe("Acme Ltd");
    expect((await api("GET", "/v1/me", as(t))).body.tenant.name).toBe("Acme Ltd");
    const [entry] = await auditRows(t, "tenant.rename");
    expect(entry).toMatchObject({
      actor_type: "user",
      actor_id: t.owner.id,
      target_id: t.tenant.id,
    });
    expect(JSON.parse(entry!.before)).toEqual({ name: t.tenant.name });
    expect(JSON.parse(entry!.after)).toEqual({ name: "Acme Ltd" });
  });

  it("parallel renames: each one that succeeds is audited, and the last audited name stands", async () => {
    const t = await createTenant();
    const names = ["One", "Two", "Three", "Four"];
    const results = await Promise.all(
      names.map((name) => api("PATCH", "/v1/settings", { ...as(t), body: { name } })),
    );
    for (const r of results) if (r.status !== 200) expectProblem(r, 409, "concurrent_rename");
    const entries = await auditRows(t, "tenant.rename");
    expect(entries.length).toBe(results.filter((r) => r.status === 200).length);
    const last = JSON.parse(entries.at(-1)!.after).name;
    expect((await findTenantById(env, t.tenant.id))?.name).toBe(last);
  });

  it("refuses an accent colour white text is unreadable on, with the contrast it has", async () => {
    const t = await createTenant();
    const res = await api("PATCH", "/v1/settings", { ...as(t), body: { accent_color: "#ffcc00" } });
    expectProblem(res, 400, "invalid_request");
    expect(res.body.detail).toMatch(/contrast of 1\.\d\d:1 .* at least 4\.5:1/);
    expectProblem(
      await api("PATCH", "/v1/settings", { ...as(t), body: { accent_color: "red" } }),
      400,
      "invalid_request",
    );
    expect(await auditRows(t, "branding.update")).toEqual([]);
    // WCAG's boundary: #777777 is 4.48:1 against white, #767676 4.54:1.
    const grey = (accent_color: string) =>
      api("PATCH", "/v1/settings", { ...as(t), body: { accent_color } });
    expectProblem(await grey("#777777"), 400, "invalid_request");
    expect((await grey("#767676")).status).toBe(200);
  });

  it("sets the accent colour, audited, and every page sees it through /v1/me", async () => {
    const t = await createTenant();
    const res = await api("PATCH", "/v1/settings", { ...as(t), body: { accent_color: "#1A4D2E" } });
    expect(res.body.accent_color).toBe("#1a4d2e");
    expect((await api("GET", "/v1/me", as(t))).body.branding).toEqual({
      accent_color: "#1a4d2e",
      logo_updated_at: null,
    });
    const [entry] = await auditRows(t, "branding.update");
    expect(JSON.parse(entry!.after)).toEqual({ accent_color: "#1a4d2e" });
  });

  it("is for owners and admins: a member reads the settings but cannot change them", async () => {
    const t = await createTenant();
    const member = await addMember(t, "member");
    const token = member.tokens.access_token;
    expect((await api("GET", "/v1/settings", { slug: t.slug, token })).status).toBe(200);
    expectProblem(
      await api("PATCH", "/v1/settings", { slug: t.slug, token, body: { name: "Mine" } }),
      403,
      "forbidden",
    );
    const admin = await addMember(t, "admin");
    const ok = await api("PATCH", "/v1/settings", {
      slug: t.slug,
      token: admin.tokens.access_token,
      body: { name: "By admin" },
    });
    expect(ok.status).toBe(200);
  });
});

describe("the logo", () => {
  it("stores a PNG under the tenant's prefix and serves it with nosniff and a cache header", async () => {
    const t = await createTenant();
    const res = await putLogo(t, PNG, "application/octet-stream");
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ content_type: "image/png", size: PNG.byteLength });
    const stored = await env.BRANDING.head(`tenants/${t.tenant.id}/logo`);
    expect(stored?.httpMetadata?.contentType).toBe("image/png");
    const got = await getLogo(t.slug, t.owner.token);
    expect(got.status).toBe(200);
    expect(got.bytes).toEqual(PNG);
    expect(got.headers.get("content-type")).toBe("image/png");
    expect(got.headers.get("x-content-type-options")).toBe("nosniff");
    expect(got.headers.get("cache-control")).toMatch(/private, max-age=\d+/);
    const [entry] = await auditRows(t, "branding.update");
    expect(JSON.parse(entry!.after)).toEqual({ logo: { type: "image/png", size: PNG.byteLength } });
    expect((await api("GET", "/v1/me", as(t))).body.branding.logo_updated_at).toBe(
      res.body.updated_at,
    );
  });

  it("refuses SVG (even labelled PNG), other types and empty files by their bytes, writing nothing", async () => {
    const t = await createTenant();
    const svg = await putLogo(t, SVG, "image/png");
    expect(svg.status).toBe(415);
    expect(svg.body).toMatchObject({ code: "logo_svg_refused", request_id: expect.any(String) });
    expect(svg.headers.get("content-type")).toBe("application/problem+json");
    const gif = await putLogo(t, new TextEncoder().encode("GIF89a..."), "image/gif");
    expect(gif.body.code).toBe("logo_type_unsupported");
    expect((await putLogo(t, new Uint8Array())).body.code).toBe("logo_empty");
    expect(await env.BRANDING.head(`tenants/${t.tenant.id}/logo`)).toBeNull();
    expect(await auditRows(t, "branding.update")).toEqual([]);
  });

  it("refuses a logo over 256 KB with 413", async () => {
    const t = await createTenant();
    const big = new Uint8Array(256 * 1024 + 1);
    big.set(PNG);
    const res = await putLogo(t, big);
    expect(res.status).toBe(413);
    expect(res.body.code).toBe("payload_too_large");
    expect(await env.BRANDING.head(`tenants/${t.tenant.id}/logo`)).toBeNull();
  });

  it("tenant B never reads tenant A's logo: the key comes from the host's tenant", async () => {
    const [a, b] = [await createTenant(), await createTenant()];
    expect((await putLogo(a, PNG)).status).toBe(200);
    expect((await getLogo(b.slug, b.owner.token)).status).toBe(404);
    expect((await getLogo(a.slug, b.owner.token)).status).toBe(401);
    const webp = new Uint8Array([...new TextEncoder().encode("RIFF\0\0\0\0WEBPVP8 "), 1, 2]);
    expect((await putLogo(b, webp)).body.content_type).toBe("image/webp");
    expect((await getLogo(a.slug, a.owner.token)).bytes).toEqual(PNG);
    expect((await getLogo(b.slug, b.owner.token)).bytes).toEqual(webp);
  });

  it("is removed, audited; a second removal is 404", async () => {
    const t = await createTenant();
    await putLogo(t, PNG);
    expect((await api("DELETE", "/v1/settings/logo", as(t))).status).toBe(204);
    expect(await env.BRANDING.head(`tenants/${t.tenant.id}/logo`)).toBeNull();
    expect((await api("GET", "/v1/settings", as(t))).body.logo).toBeNull();
    expectProblem(await api("DELETE", "/v1/settings/logo", as(t)), 404, "not_found");
    const entries = await auditRows(t, "branding.update");
    expect(JSON.parse(entries.at(-1)!.after)).toEqual({ logo: null });
  });
});
