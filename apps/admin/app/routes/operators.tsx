import { Form, useActionData, useLoaderData } from "react-router";
import { formError, requireOperator, verifyCsrf } from "../../server/page-auth";
import { OPERATOR_ROLES, type OperatorRole } from "../../server/roles";
import {
  inviteOperator,
  listOperators,
  resetOperatorTotp,
  updateOperator,
} from "../../server/services/operators";
import type { Route } from "./+types/operators";

export function meta(_: Route.MetaArgs) {
  return [{ title: "Operators · Tenantry operators" }];
}

export async function loader(args: Route.LoaderArgs) {
  const ctx = await requireOperator(args, "operators:manage");
  return { csrf: ctx.csrfToken, me: ctx.operator.id, operators: await listOperators({ ctx }) };
}

const role = (v: FormDataEntryValue | null): OperatorRole | undefined =>
  OPERATOR_ROLES.find((r) => r === v);

export async function action(args: Route.ActionArgs) {
  const ctx = await requireOperator(args, "operators:manage");
  const form = await args.request.formData();
  verifyCsrf(form, ctx);
  const reason = String(form.get("reason") ?? "");
  const id = String(form.get("id") ?? "");
  try {
    switch (form.get("intent")) {
      case "invite": {
        const invited = await inviteOperator({
          ctx,
          input: {
            email: String(form.get("email") ?? ""),
            name: String(form.get("name") ?? ""),
            role: role(form.get("role")) ?? "read_only",
            reason,
          },
        });
        return { setupUrl: invited.setupUrl, who: invited.operator.email };
      }
      case "reset_totp": {
        const { setupUrl } = await resetOperatorTotp({ ctx, input: { id, reason } });
        return { setupUrl, who: id };
      }
      default: {
        await updateOperator({
          ctx,
          input: {
            id,
            role: role(form.get("role")),
            status: form.get("status") === "disabled" ? "disabled" : "active",
            revokeCredentials: form.get("revoke") === "on",
            reason,
          },
        });
        return { setupUrl: null, who: id };
      }
    }
  } catch (err) {
    return formError(err);
  }
}

export default function Operators() {
  const { csrf, me, operators } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  return (
    <main className="page">
      <h1>Operators</h1>
      {result && "error" in result ? <p className="error">{result.error}</p> : null}
      {result && "setupUrl" in result && result.setupUrl ? (
        <div className="card">
          <p>
            Setup link for {result.who} (works once, for 72 hours; hand it over through a channel
            you trust):
          </p>
          <code>{result.setupUrl}</code>
        </div>
      ) : null}
      <table>
        <thead>
          <tr>
            <th>Email</th>
            <th>Name</th>
            <th>Role · status</th>
            <th>Reset TOTP</th>
          </tr>
        </thead>
        <tbody>
          {operators.map((o) => (
            <tr key={o.id}>
              <td>{o.email}</td>
              <td>{o.name}</td>
              <td>
                {o.id === me ? (
                  `${o.role} · ${o.status} (you)`
                ) : (
                  <Form method="post">
                    <input type="hidden" name="csrf" value={csrf} />
                    <input type="hidden" name="intent" value="update" />
                    <input type="hidden" name="id" value={o.id} />
                    <select name="role" defaultValue={o.role} aria-label="Role">
                      {OPERATOR_ROLES.map((r) => (
                        <option key={r}>{r}</option>
                      ))}
                    </select>
                    <select name="status" defaultValue={o.status} aria-label="Status">
                      <option>active</option>
                      <option>disabled</option>
                    </select>
                    <label className="inline">
                      <input type="checkbox" name="revoke" /> revoke sessions and tokens
                    </label>
                    <input name="reason" placeholder="reason" required minLength={3} />
                    <button type="submit">Save</button>
                  </Form>
                )}
              </td>
              <td>
                {o.id === me ? null : (
                  <Form method="post">
                    <input type="hidden" name="csrf" value={csrf} />
                    <input type="hidden" name="intent" value="reset_totp" />
                    <input type="hidden" name="id" value={o.id} />
                    <input name="reason" placeholder="reason" required minLength={3} />
                    <button type="submit" className="danger">
                      Reset TOTP
                    </button>
                  </Form>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Invite an operator</h2>
      <Form method="post" className="card">
        <input type="hidden" name="csrf" value={csrf} />
        <input type="hidden" name="intent" value="invite" />
        <label htmlFor="email">Email</label>
        <input id="email" name="email" type="email" required />
        <label htmlFor="name">Name</label>
        <input id="name" name="name" required />
        <label htmlFor="role">Role</label>
        <select id="role" name="role" defaultValue="read_only">
          {OPERATOR_ROLES.map((r) => (
            <option key={r}>{r}</option>
          ))}
        </select>
        <label htmlFor="reason">Reason</label>
        <input id="reason" name="reason" required minLength={3} />
        <p>
          <button type="submit">Invite</button>
        </p>
      </Form>
    </main>
  );
}
