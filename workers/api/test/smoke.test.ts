import { exports } from "cloudflare:workers";
import { expect, it } from "vitest";

it("healthz", async () => {
  const res = await exports.default.fetch("http://localhost:8787/healthz");
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ status: "ok" });
});

it("signup", async () => {
  const res = await exports.default.fetch("http://localhost:8787/v1/signup", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      organization_name: "Acme",
      slug: "acme-smoke",
      email: "a@b.co",
      password: "correct horse battery",
    }),
  });
  const body = await res.json();
  console.log(res.status, body);
  expect(res.status).toBe(201);
  const me = await exports.default.fetch("http://acme-smoke.localhost:8787/v1/me", {
    headers: { authorization: `Bearer ${(body as { access_token: string }).access_token}` },
  });
  console.log(me.status, await me.json());
});
