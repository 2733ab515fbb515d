import { env } from "cloudflare:workers";
import { sealPlatformAuditLog } from "@tenantry/core";
import { describe, expect, it } from "vitest";
import { adminFetch, operatorWithToken } from "./helpers";

interface Verification {
  ok: boolean;
  findings: { entryId: string | null; problem: string }[];
}

describe("GET /api/v1/audit/verify", () => {
  it("names an operator audit entry altered directly in D1", async () => {
    const op = await operatorWithToken("read_only");
    const id = `aud_verify_${Date.now()}`;
    await env.CONTROL_DB.prepare(
      `INSERT INTO platform_audit_log (id, actor_type, actor_id, action, tenant_id, target_type,
         target_id, reason, created_at) VALUES (?1, 'operator', ?2, 'tenant.suspend', NULL,
         'tenant', 'ten_x', 'abuse report', ?3)`,
    )
      .bind(id, op.id, Date.now())
      .run();
    await sealPlatformAuditLog({ ctx: { env } });
    const clean = (await (
      await adminFetch("/api/v1/audit/verify", { token: op.token })
    ).json()) as {
      platform: Verification;
    };
    expect(clean.platform.ok).toBe(true);

    await env.CONTROL_DB.prepare("UPDATE platform_audit_log SET reason = 'nothing' WHERE id = ?1")
      .bind(id)
      .run();
    const res = await adminFetch("/api/v1/audit/verify", { token: op.token });
    expect(res.status).toBe(200);
    const { platform } = (await res.json()) as { platform: Verification };
    expect(platform.ok).toBe(false);
    expect(platform.findings).toContainEqual(
      expect.objectContaining({ entryId: id, problem: "altered" }),
    );
  });
});
