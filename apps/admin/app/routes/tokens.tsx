import { Form, useActionData, useLoaderData } from "react-router";
import { formError, requireOperator, verifyCsrf } from "../../server/page-auth";
import {
  createOperatorToken,
  listOperatorTokens,
  MAX_TOKEN_DAYS,
  revokeOperatorToken,
} from "../../server/services/operator-tokens";
import type { Route } from "./+types/tokens";

export function meta(_: Route.MetaArgs) {
  return [{ title: "API tokens · Tenantry operators" }];
}

export async function loader(args: Route.LoaderArgs) {
  const ctx = await requireOperator(args, "tokens:own");
  return {
    csrf: ctx.csrfToken,
    role: ctx.operator.role,
    tokens: await listOperatorTokens({ ctx }),
  };
}

export async function action(args: Route.ActionArgs) {
  const ctx = await requireOperator(args, "tokens:own");
  const form = await args.request.formData();
  verifyCsrf(form, ctx);
  const reason = String(form.get("reason") ?? "");
  try {
    if (form.get("intent") === "revoke") {
      await revokeOperatorToken({ ctx, input: { id: String(form.get("id")), reason } });
      return { created: null };
    }
    const created = await createOperatorToken({
      ctx,
      input: {
        name: String(form.get("name") ?? ""),
        role: form.get("role") === "read_only" ? "read_only" : ctx.operator.role,
        expiresInDays: Number(form.get("days")),
        reason,
      },
    });
    return { created: created.token };
  } catch (err) {
    return formError(err);
  }
}

const day = (ms: number | null) => (ms ? new Date(ms).toISOString().slice(0, 16) : "—");

export default function Tokens() {
  const { csrf, role, tokens } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  return (
    <main className="page">
      <h1>API tokens</h1>
      <p className="muted">
        For the admin JSON API (<code>Authorization: Bearer tnop_…</code>). A token carries your
        role ({role}) or read_only, and expires within {MAX_TOKEN_DAYS} days.
      </p>
      {result && "created" in result && result.created ? (
        <div className="card">
          <p>Copy the token now; it is not shown again:</p>
          <code>{result.created}</code>
        </div>
      ) : null}
      {result && "error" in result ? <p className="error">{result.error}</p> : null}
      <Form method="post" className="card">
        <input type="hidden" name="csrf" value={csrf} />
        <label htmlFor="name">Name</label>
        <input id="name" name="name" required maxLength={100} />
        <label htmlFor="role">Role</label>
        <select id="role" name="role" defaultValue={role}>
          <option value={role}>{role}</option>
          {role === "read_only" ? null : <option value="read_only">read_only</option>}
        </select>
        <label htmlFor="days">Expires in (days)</label>
        <input id="days" name="days" type="number" min={1} max={MAX_TOKEN_DAYS} defaultValue={30} />
        <label htmlFor="reason">Reason</label>
        <input id="reason" name="reason" required minLength={3} />
        <p>
          <button type="submit">Create token</button>
        </p>
      </Form>
      <table>
        <thead>
          <tr>
            <th>Name</th>
            <th>Role</th>
            <th>Expires</th>
            <th>Last used</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {tokens.map((t) => (
            <tr key={t.id}>
              <td>{t.name}</td>
              <td>{t.role}</td>
              <td>{day(t.expiresAt)}</td>
              <td>{day(t.lastUsedAt)}</td>
              <td>
                {t.revokedAt ? (
                  <span className="muted">revoked</span>
                ) : (
                  <Form method="post">
                    <input type="hidden" name="csrf" value={csrf} />
                    <input type="hidden" name="intent" value="revoke" />
                    <input type="hidden" name="id" value={t.id} />
                    <input name="reason" placeholder="reason" required minLength={3} />
                    <button type="submit" className="danger">
                      Revoke
                    </button>
                  </Form>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </main>
  );
}
