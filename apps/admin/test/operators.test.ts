import { env } from "cloudflare:workers";
import { totpCode } from "@tenantry/core/totp";
import { describe, expect, it } from "vitest";
import { completeSetup, signIn } from "../server/services/sign-in";
import {
  adminFetch,
  auditRowsOf,
  OPERATOR_PASSWORD,
  operatorWithPassword,
  operatorWithToken,
  requestContext,
} from "./helpers";

const post = (path: string, token: string, body: unknown, method = "POST") =>
  adminFetch(path, { method, token, body: JSON.stringify(body) });

describe("operator API tokens", () => {
  it("are shown once, listed without secrets, and capped at the caller's role or read_only", async () => {
    const op = await operatorWithToken("support");
    const created = await post("/api/v1/tokens", op.token, {
      name: "ci",
      expires_in_days: 30,
      reason: "nightly export",
    });
    expect(created.status).toBe(201);
    const body = (await created.json()) as { id: string; token: string; role: string };
    expect(body).toMatchObject({ role: "support", token: expect.stringMatching(/^tnop_/) });
    const [audit] = await auditRowsOf(created.headers.get("x-request-id"));
    expect(audit).toMatchObject({ action: "operator_token.create", target_id: body.id });
    expect(String(audit?.after)).not.toContain(body.token);
    const me = await adminFetch("/api/v1/me", { token: body.token });
    expect(await me.json()).toMatchObject({ operator: { id: op.id, role: "support" } });

    const list = await adminFetch("/api/v1/tokens", { token: op.token });
    const { tokens } = (await list.json()) as { tokens: Record<string, unknown>[] };
    expect(tokens.map((t) => t.id)).toContain(body.id);
    expect(JSON.stringify(tokens)).not.toContain(body.token);

    const readOnly = await post("/api/v1/tokens", op.token, {
      name: "viewer",
      role: "read_only",
      expires_in_days: 1,
      reason: "dashboards",
    });
    expect(readOnly.status).toBe(201);
    const higher = await post("/api/v1/tokens", op.token, {
      name: "root",
      role: "platform_admin",
      expires_in_days: 1,
      reason: "escalation",
    });
    expect(higher.status).toBe(403);
    expect(await higher.json()).toMatchObject({ code: "role_too_high" });
    // A read_only token of the same operator cannot mint a support one.
    const { token: ro } = (await readOnly.json()) as { token: string };
    const fromReadOnly = await post("/api/v1/tokens", ro, {
      name: "x",
      role: "support",
      expires_in_days: 1,
      reason: "escalation",
    });
    expect(fromReadOnly.status).toBe(403);
    const tooLong = await post("/api/v1/tokens", op.token, {
      name: "forever",
      expires_in_days: 91,
      reason: "no rotation",
    });
    expect(tooLong.status).toBe(400);
  });

  it("stop working when expired or revoked", async () => {
    const expired = await operatorWithToken("platform_admin", -1);
    expect((await adminFetch("/api/v1/me", { token: expired.token })).status).toBe(401);

    const op = await operatorWithToken("billing");
    const created = await post("/api/v1/tokens", op.token, {
      name: "temp",
      expires_in_days: 1,
      reason: "one-off",
    });
    const { id, token } = (await created.json()) as { id: string; token: string };
    const revoked = await post(`/api/v1/tokens/${id}/revoke`, op.token, { reason: "done" });
    expect(revoked.status).toBe(200);
    expect(await auditRowsOf(revoked.headers.get("x-request-id"))).toMatchObject([
      { action: "operator_token.revoke", target_id: id },
    ]);
    expect((await adminFetch("/api/v1/me", { token })).status).toBe(401);
    // Someone else's token is not found for an operator who does not manage operators.
    const other = await operatorWithToken("billing");
    expect(
      (await post(`/api/v1/tokens/${id}/revoke`, other.token, { reason: "x".repeat(3) })).status,
    ).toBe(404);
  });
});

describe("operator management", () => {
  it("invites an operator who sets a password and enrols TOTP through a one-time link", async () => {
    const admin = await operatorWithToken("platform_admin");
    const email = `new-${crypto.randomUUID()}@ops.example`;
    const invited = await post("/api/v1/operators", admin.token, {
      email,
      name: "New Operator",
      role: "support",
      reason: "joins the support rota",
    });
    expect(invited.status).toBe(201);
    const body = (await invited.json()) as { operator: { id: string }; setup_url: string };
    expect(body.setup_url).toMatch(/^http:\/\/admin\.localhost:8787\/setup\//);
    expect(await auditRowsOf(invited.headers.get("x-request-id"))).toMatchObject([
      { action: "operator.invite", target_id: body.operator.id, actor_id: admin.id },
    ]);
    const again = await post("/api/v1/operators", admin.token, {
      email,
      name: "Twice",
      role: "support",
      reason: "duplicate",
    });
    expect(again.status).toBe(409);

    const token = body.setup_url.split("/setup/")[1]!;
    const { totp_secret: secret } = (await env.CONTROL_DB.prepare(
      "SELECT totp_secret FROM operators WHERE email = ?",
    )
      .bind(email)
      .first<{ totp_secret: string }>())!;
    // No sign-in before setup.
    await expect(
      signIn({
        ctx: requestContext(),
        input: { email, password: OPERATOR_PASSWORD, code: totpCode(secret) },
      }),
    ).rejects.toMatchObject({ status: 401 });
    await expect(
      completeSetup({
        ctx: requestContext(),
        input: { token, password: OPERATOR_PASSWORD, code: "000000" },
      }),
    ).rejects.toMatchObject({ status: 401 });
    await completeSetup({
      ctx: requestContext(),
      input: { token, password: OPERATOR_PASSWORD, code: totpCode(secret) },
    });
    // The link works once.
    await expect(
      completeSetup({
        ctx: requestContext(),
        input: { token, password: "another password", code: totpCode(secret, Date.now() + 30_000) },
      }),
    ).rejects.toMatchObject({ status: 401 });
    const session = await signIn({
      ctx: requestContext(),
      input: { email, password: OPERATOR_PASSWORD, code: totpCode(secret, Date.now() + 30_000) },
    });
    expect(session.secret).toBeTruthy();
  });

  it("resets TOTP: credentials end and the next sign-in needs a new enrolment", async () => {
    const admin = await operatorWithToken("platform_admin");
    const op = await operatorWithPassword("billing");
    const reset = await post(`/api/v1/operators/${op.id}/reset-totp`, admin.token, {
      reason: "lost phone",
    });
    expect(reset.status).toBe(200);
    expect(await auditRowsOf(reset.headers.get("x-request-id"))).toMatchObject([
      { action: "operator.reset_totp", target_id: op.id },
    ]);
    const { setup_url } = (await reset.json()) as { setup_url: string };
    expect(setup_url).toContain("/setup/");
    // Neither the old secret nor the new one signs in until the link is completed.
    await expect(
      signIn({
        ctx: requestContext(),
        input: { email: op.email, password: OPERATOR_PASSWORD, code: totpCode(op.totpSecret) },
      }),
    ).rejects.toMatchObject({ status: 401 });
  });

  it("changes roles and disables, ending the operator's tokens; never one's own", async () => {
    const admin = await operatorWithToken("platform_admin");
    const op = await operatorWithToken("billing");
    const demoted = await post(
      `/api/v1/operators/${op.id}`,
      admin.token,
      { role: "read_only", reason: "moved teams" },
      "PATCH",
    );
    expect(demoted.status).toBe(200);
    expect(await demoted.json()).toMatchObject({ role: "read_only", status: "active" });
    expect(await auditRowsOf(demoted.headers.get("x-request-id"))).toMatchObject([
      { action: "operator.update", target_id: op.id },
    ]);
    expect((await adminFetch("/api/v1/me", { token: op.token })).status).toBe(401);

    const self = await post(
      `/api/v1/operators/${admin.id}`,
      admin.token,
      { status: "disabled", reason: "oops" },
      "PATCH",
    );
    expect(self.status).toBe(403);
    expect(await auditRowsOf(self.headers.get("x-request-id"))).toEqual([]);

    const list = await adminFetch("/api/v1/operators", { token: admin.token });
    const { operators } = (await list.json()) as { operators: { id: string; role: string }[] };
    expect(operators.find((o) => o.id === op.id)).toMatchObject({ role: "read_only" });
  });
});
