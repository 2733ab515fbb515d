import { env } from "cloudflare:workers";
import { totpCode } from "@tenantry/core/totp";
import { describe, expect, it } from "vitest";
import { operatorFromSession } from "../server/auth";
import { adminConfig } from "../server/env";
import { OPERATOR_SIGN_IN_LIMITS, signIn, signOut } from "../server/services/sign-in";
import { OPERATOR_PASSWORD, operatorWithPassword, requestContext } from "./helpers";

const noWait = (p: Promise<unknown>) => void p;

async function statusOf(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 200;
  } catch (err) {
    return (err as { status?: number }).status ?? 500;
  }
}

describe("operator sign-in (password + TOTP)", () => {
  it("opens a session for the right password and a current code, once per code", async () => {
    const op = await operatorWithPassword("support");
    const code = totpCode(op.totpSecret);
    const ctx = requestContext();
    const session = await signIn({
      ctx,
      input: { email: op.email.toUpperCase(), password: OPERATOR_PASSWORD, code },
    });
    const who = await operatorFromSession(env, session.secret, noWait);
    expect(who).toMatchObject({ id: op.id, role: "support", via: { type: "session" } });
    // The same code again (a replay, or a shoulder-surfed code) is refused.
    await expect(
      signIn({ ctx, input: { email: op.email, password: OPERATOR_PASSWORD, code } }),
    ).rejects.toMatchObject({ status: 401 });
    // Signing out revokes the session row.
    await signOut({ ctx: { ...ctx, operator: who! } });
    expect(await operatorFromSession(env, session.secret, noWait)).toBeNull();
  });

  it("accepts a code once when it is submitted in parallel", async () => {
    const op = await operatorWithPassword();
    const input = { email: op.email, password: OPERATOR_PASSWORD, code: totpCode(op.totpSecret) };
    const statuses = await Promise.all(
      Array.from({ length: 4 }, () => statusOf(signIn({ ctx: requestContext(), input }))),
    );
    expect(statuses.sort()).toEqual([200, 401, 401, 401]);
  });

  it("refuses a wrong code, a wrong password and an unknown email with the same 401", async () => {
    const op = await operatorWithPassword();
    const code = totpCode(op.totpSecret);
    const wrongCode = code === "000000" ? "111111" : "000000";
    const attempts = [
      { email: op.email, password: OPERATOR_PASSWORD, code: wrongCode },
      { email: op.email, password: "not it", code },
      { email: "nobody@ops.example", password: OPERATOR_PASSWORD, code },
    ];
    for (const input of attempts) {
      await expect(signIn({ ctx: requestContext(), input })).rejects.toMatchObject({
        status: 401,
        message: "Invalid email, password or code.",
      });
    }
  });

  it("counts parallel failures atomically per operator", async () => {
    const op = await operatorWithPassword();
    const max = OPERATOR_SIGN_IN_LIMITS.account.max;
    const statuses = await Promise.all(
      Array.from({ length: max + 5 }, () =>
        statusOf(
          signIn({
            ctx: requestContext(),
            input: { email: op.email, password: "guess", code: "123456" },
          }),
        ),
      ),
    );
    expect(statuses.filter((s) => s === 401)).toHaveLength(max);
    expect(statuses.filter((s) => s === 429)).toHaveLength(5);
    // Locked out now, even with the right credentials.
    await expect(
      signIn({
        ctx: requestContext(),
        input: { email: op.email, password: OPERATOR_PASSWORD, code: totpCode(op.totpSecret) },
      }),
    ).rejects.toMatchObject({ status: 429 });
  });

  it("counts parallel failures atomically per client across operators", async () => {
    const ctx = requestContext();
    const max = OPERATOR_SIGN_IN_LIMITS.client.max;
    const statuses = await Promise.all(
      Array.from({ length: max + 3 }, (_, i) =>
        statusOf(
          signIn({
            ctx,
            input: { email: `spray${i}@ops.example`, password: "guess", code: "123456" },
          }),
        ),
      ),
    );
    expect(statuses.filter((s) => s === 401)).toHaveLength(max);
    expect(statuses.filter((s) => s === 429)).toHaveLength(3);
  });

  it("ends idle sessions after OPERATOR_IDLE_MINUTES", async () => {
    const op = await operatorWithPassword();
    const { secret } = await signIn({
      ctx: requestContext(),
      input: { email: op.email, password: OPERATOR_PASSWORD, code: totpCode(op.totpSecret) },
    });
    const idleMs = adminConfig(env).OPERATOR_IDLE_MINUTES * 60_000;
    const setLastSeen = (at: number) =>
      env.CONTROL_DB.prepare("UPDATE operator_sessions SET last_seen_at = ? WHERE operator_id = ?")
        .bind(at, op.id)
        .run();
    await setLastSeen(Date.now() - idleMs + 60_000);
    expect(await operatorFromSession(env, secret, noWait)).not.toBeNull();
    await setLastSeen(Date.now() - idleMs - 1_000);
    expect(await operatorFromSession(env, secret, noWait)).toBeNull();
  });

  it("refuses a disabled operator", async () => {
    const op = await operatorWithPassword();
    await env.CONTROL_DB.prepare("UPDATE operators SET status = 'disabled' WHERE id = ?")
      .bind(op.id)
      .run();
    await expect(
      signIn({
        ctx: requestContext(),
        input: { email: op.email, password: OPERATOR_PASSWORD, code: totpCode(op.totpSecret) },
      }),
    ).rejects.toMatchObject({ status: 401 });
  });
});
