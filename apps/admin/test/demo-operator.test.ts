import { env } from "cloudflare:workers";
import { verifyPassword } from "@tenantry/core/crypto";
import { describe, expect, it } from "vitest";
import { DEMO_OPERATOR, demoOperatorCode } from "../../../scripts/lib/demo-operator.mjs";
import { signIn } from "../server/services/sign-in";
import { requestContext } from "./helpers";

describe("the seeded demo operator (scripts/seed-operator.mjs)", () => {
  it("signs in with its documented password and TOTP secret", async () => {
    expect(await verifyPassword(DEMO_OPERATOR.password, DEMO_OPERATOR.passwordHash)).toBe(true);
    const o = DEMO_OPERATOR;
    await env.CONTROL_DB.prepare(
      "INSERT INTO operators (id, email, name, role, status, password_hash, totp_secret, created_at, updated_at) VALUES (?, ?, ?, ?, 'active', ?, ?, 0, 0)",
    )
      .bind(o.id, o.email, o.name, o.role, o.passwordHash, o.totpSecret)
      .run();
    const session = await signIn({
      ctx: requestContext(),
      input: { email: o.email, password: o.password, code: demoOperatorCode() },
    });
    expect(session.secret).toBeTruthy();
  });
});
