/**
 * The tenant pages' loaders and actions over the same verbs: a session cookie and its CSRF
 * token gate every form, the role gates each intent, and a refusal comes back as the form's error.
 */
import { env } from "cloudflare:workers";
import { newId } from "@tenantry/schema";
import type { OperatorRole } from "@tenantry/schema/control";
import { createElement } from "react";
import { renderToString } from "react-dom/server";
import { createRoutesStub, RouterContextProvider } from "react-router";
import { describe, expect, it } from "vitest";
import { api, createTenant } from "../../../workers/api/test/helpers";
import * as listPage from "../app/routes/tenants";
import * as detailPage from "../app/routes/tenants.$id";
import { adminRequest } from "../server/request";
import { ADMIN, operatorSignedIn } from "./helpers";

async function signedIn(role: OperatorRole) {
  const { csrf, cookie } = await operatorSignedIn(role);
  const context = () => {
    const provider = new RouterContextProvider();
    provider.set(adminRequest, {
      env,
      waitUntil: () => {},
      requestId: newId("request"),
      ip: null,
      nonce: "test",
    });
    return provider;
  };
  return {
    csrf,
    get: (path: string) => ({
      request: new Request(`${ADMIN}${path}`, { headers: { cookie } }),
      context: context(),
    }),
    post: (path: string, fields: Record<string, string>) => ({
      request: new Request(`${ADMIN}${path}`, {
        method: "POST",
        headers: { cookie },
        body: new URLSearchParams(fields),
      }),
      context: context(),
    }),
  };
}

/** A page rendered with its loader's data, as the server renders it. */
function render(path: string, id: string, Component: unknown, loaderData: unknown) {
  const Stub = createRoutesStub([{ id: "page", path, Component: Component as never }]);
  return renderToString(
    createElement(Stub, {
      initialEntries: [path.replace(":id", id)],
      hydrationData: { loaderData: { page: loaderData } },
    }),
  );
}

/** What a loader or action threw as a response (`data(…, { status })`). */
async function thrownStatus(run: () => Promise<unknown>) {
  try {
    await run();
  } catch (err) {
    // `data()` throws its init; a problem (CSRF) is thrown as a Response.
    if (err instanceof Response) return err.status;
    return (err as { init?: { status?: number } }).init?.status;
  }
  return null;
}

describe("tenant pages", () => {
  it("list and detail load for a reader; a suspend form suspends with the session's CSRF token", async () => {
    const t = await createTenant();
    const reader = await signedIn("read_only");
    const list = await listPage.loader({
      ...reader.get(`/tenants?q=${t.slug}&by=slug&plan=`),
      params: {},
    } as never);
    expect(list.page?.data.map((r) => r.id)).toEqual([t.tenant.id]);
    const detail = await detailPage.loader({
      ...reader.get(`/tenants/${t.tenant.id}`),
      params: { id: t.tenant.id },
    } as never);
    expect(detail.may).toEqual({ suspend: false, overrides: false, plan: false });
    expect(detail.detail.tenant.slug).toBe(t.slug);
    // The pages render what their loaders return.
    const listHtml = render("/tenants", t.tenant.id, listPage.default, list);
    expect(listHtml).toContain(`/tenants/${t.tenant.id}`);
    const detailHtml = render("/tenants/:id", t.tenant.id, detailPage.default, detail);
    expect(detailHtml).toContain(t.owner.email);
    expect(detailHtml).toContain("Recent tenant audit");
    expect(
      await thrownStatus(() =>
        detailPage.loader({
          ...reader.get("/tenants/ten_nope"),
          params: { id: "ten_nope" },
        } as never),
      ),
    ).toBe(404);

    // The reader's role has no tenants:suspend.
    const path = `/tenants/${t.tenant.id}`;
    const fields = { intent: "suspend", reason: "fraud signals", csrf: reader.csrf };
    expect(
      await thrownStatus(() =>
        detailPage.action({ ...reader.post(path, fields), params: { id: t.tenant.id } } as never),
      ),
    ).toBe(403);

    const support = await signedIn("support");
    expect(
      await thrownStatus(() =>
        detailPage.action({
          ...support.post(path, { ...fields, csrf: "forged" }),
          params: { id: t.tenant.id },
        } as never),
      ),
    ).toBe(403);
    const done = await detailPage.action({
      ...support.post(path, { ...fields, csrf: support.csrf }),
      params: { id: t.tenant.id },
    } as never);
    expect(done).toMatchObject({ ok: expect.stringContaining("30 seconds") });
    expect((await api("GET", "/v1/me", { slug: t.slug, token: t.owner.token })).status).toBe(403);

    // A second suspension is the service's 409, shown on the form.
    const again = (await detailPage.action({
      ...support.post(path, { ...fields, csrf: support.csrf }),
      params: { id: t.tenant.id },
    } as never)) as unknown as { data: { error: string }; init: { status: number } };
    expect(again.init.status).toBe(409);
    expect(again.data.error).toContain("not active");
  });

  it("the override form grants a limit the tenant sees at once", async () => {
    const t = await createTenant();
    const billing = await signedIn("billing");
    const res = await detailPage.action({
      ...billing.post(`/tenants/${t.tenant.id}`, {
        intent: "override",
        csrf: billing.csrf,
        type: "limit",
        key: "seats",
        value: "12",
        hard: "",
        expires_days: "30",
        reason: "comp for the outage",
      }),
      params: { id: t.tenant.id },
    } as never);
    expect(res).toMatchObject({ ok: expect.any(String) });
    const ents = await api("GET", "/v1/entitlements", { slug: t.slug, token: t.owner.token });
    expect(ents.body.limits.seats).toEqual({ value: 12, hard: true });
    const page = await detailPage.loader({
      ...billing.get(`/tenants/${t.tenant.id}`),
      params: { id: t.tenant.id },
    } as never);
    const html = render("/tenants/:id", t.tenant.id, detailPage.default, page);
    for (const form of ["Add override", "Update subscription", "Expire", "comp for the outage"]) {
      expect(html).toContain(form);
    }
    expect(html).not.toContain("Suspend");
    const seats = ents.body.overrides.find((o: { key: string }) => o.key === "seats");
    expect(seats.expiresAt).toBeGreaterThan(Date.now() + 29 * 86_400_000);
  });
});
