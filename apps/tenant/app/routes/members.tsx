import { ROLES, type Role } from "@tenantry/core/permissions";
import { data, Form, Link, useActionData } from "react-router";
import { apiFailure, shownProblem } from "../../server/api";
import { signedIn, signedInCaller, signedInForm, signedOut } from "../../server/signed-in";
import { CsrfField } from "../components/csrf";
import { ProblemNotice } from "../components/problem";
import { whyNotGrant, whyNotInvite, whyNotManage } from "../roles";
import { useSignedIn } from "../signed-in";
import type { Route } from "./+types/members";

export function meta() {
  return [{ title: "Members" }];
}

/** Members (one page of 100: more than any plan's seats but the largest), pending invitations, seats. */
export async function loader(args: Route.LoaderArgs) {
  const { api } = signedIn(args);
  const me = await signedInCaller(args);
  const page = { params: { query: { limit: 100 } } };
  const [members, entitlements, invitations] = await Promise.all([
    api.GET("/v1/members", page),
    api.GET("/v1/entitlements"),
    // Without invitations:read the page has no invitations section.
    me.permissions.includes("invitations:read") ? api.GET("/v1/invitations", page) : null,
  ]);
  if (members.response.status === 401) throw signedOut(args);
  if (!members.data) throw apiFailure(members);
  if (!entitlements.data) throw apiFailure(entitlements);
  if (invitations && !invitations.data) throw apiFailure(invitations);
  const seats = entitlements.data.limits.seats;
  return {
    members: members.data.data,
    more: members.data.next_cursor !== null,
    invitations: invitations?.data?.data.filter((i) => i.status === "pending") ?? null,
    seats: { used: members.data.data.length, limit: seats?.hard ? seats.value : null },
  };
}

/** One form per intent; a refusal comes back with the API's status and problem. */
export async function action(args: Route.ActionArgs) {
  const { api, form } = await signedInForm(args);
  const id = String(form.get("id") ?? "");
  const intent = form.get("intent");
  let result: { error?: unknown; response: Response };
  let done: string;
  if (intent === "invite") {
    const email = String(form.get("email") ?? "");
    const role = String(form.get("role") ?? "") as Role;
    result = await api.POST("/v1/invitations", { body: { email, role } });
    done = `Invitation sent to ${email}.`;
  } else if (intent === "role") {
    const role = String(form.get("role") ?? "") as Role;
    result = await api.PATCH("/v1/members/{id}", { params: { path: { id } }, body: { role } });
    done = "Role changed.";
  } else if (intent === "remove") {
    result = await api.DELETE("/v1/members/{id}", { params: { path: { id } } });
    done = "Member removed.";
  } else if (intent === "revoke") {
    result = await api.DELETE("/v1/invitations/{id}", { params: { path: { id } } });
    done = "Invitation revoked.";
  } else {
    throw new Response("Unknown action.", { status: 400 });
  }
  if (result.response.status === 401) throw signedOut(args);
  if (result.error)
    return data({ problem: shownProblem(result), done: null }, { status: result.response.status });
  return { problem: null, done };
}

const day = (iso: string) => <time dateTime={iso}>{iso.slice(0, 10)}</time>;

export default function Members({ loaderData }: Route.ComponentProps) {
  const { members, more, invitations, seats } = loaderData;
  const { me } = useSignedIn();
  const result = useActionData<typeof action>();
  const owners = members.filter((m) => m.role === "owner").length;
  const manages = me.permissions.includes("members:manage");
  const cannotInvite = whyNotInvite(me, seats);
  return (
    <div className="stack">
      <h1>Members</h1>
      <ProblemNotice problem={result?.problem} />
      {result?.done && (
        <p className="notice ok" role="status">
          {result.done}
        </p>
      )}
      <p className="muted">
        {seats.limit === null
          ? `${seats.used} members`
          : `${seats.used} of ${seats.limit} seats in use`}
        {!manages && ` · Your role (${me.role}) cannot manage members.`}
      </p>
      <table>
        <thead>
          <tr>
            <th scope="col">Email</th>
            <th scope="col">Role</th>
            <th scope="col">Joined</th>
            {manages && <th scope="col">Actions</th>}
          </tr>
        </thead>
        <tbody>
          {members.map((m) => {
            const cannot = whyNotManage(me, m.role, owners);
            return (
              <tr key={m.id}>
                <td>
                  {m.email}
                  {m.user_id === me.user?.id && <span className="muted"> (you)</span>}
                </td>
                <td>
                  <span className="badge">{m.role}</span>
                </td>
                <td>{day(m.created_at)}</td>
                {manages && (
                  <td>
                    {cannot ? (
                      <span className="muted">{cannot}</span>
                    ) : (
                      <div className="row">
                        <Form method="post" className="row">
                          <CsrfField />
                          <input type="hidden" name="intent" value="role" />
                          <input type="hidden" name="id" value={m.id} />
                          <label htmlFor={`role-${m.id}`} className="visually-hidden">
                            Role of {m.email}
                          </label>
                          <RoleSelect id={`role-${m.id}`} me={me} defaultValue={m.role} />
                          <button type="submit">Change role</button>
                        </Form>
                        <Form method="post">
                          <CsrfField />
                          <input type="hidden" name="intent" value="remove" />
                          <input type="hidden" name="id" value={m.id} />
                          <button type="submit" className="danger" aria-label={`Remove ${m.email}`}>
                            Remove
                          </button>
                        </Form>
                      </div>
                    )}
                  </td>
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
      {more && <p className="muted">The 100 newest members are shown.</p>}

      {invitations && (
        <section className="stack" aria-labelledby="pending">
          <h2 id="pending">Pending invitations</h2>
          {invitations.length === 0 ? (
            <p className="muted">No pending invitations.</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">Email</th>
                  <th scope="col">Role</th>
                  <th scope="col">Expires</th>
                  {me.permissions.includes("invitations:manage") && <th scope="col">Actions</th>}
                </tr>
              </thead>
              <tbody>
                {invitations.map((i) => (
                  <tr key={i.id}>
                    <td>{i.email}</td>
                    <td>
                      <span className="badge">{i.role}</span>
                    </td>
                    <td>{day(i.expires_at)}</td>
                    {me.permissions.includes("invitations:manage") && (
                      <td>
                        <Form method="post">
                          <CsrfField />
                          <input type="hidden" name="intent" value="revoke" />
                          <input type="hidden" name="id" value={i.id} />
                          <button
                            type="submit"
                            className="danger"
                            aria-label={`Revoke the invitation of ${i.email}`}
                          >
                            Revoke
                          </button>
                        </Form>
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      )}

      <section className="card stack" aria-labelledby="invite">
        <h2 id="invite">Invite a teammate</h2>
        {cannotInvite && (
          <p className="notice warn">
            {cannotInvite}
            {cannotInvite.includes("seats") && (
              <>
                {" "}
                <Link to="/billing">See plans</Link>
              </>
            )}
          </p>
        )}
        {me.permissions.includes("invitations:manage") && (
          // A new form after each success, so the sent address does not linger.
          <Form method="post" className="stack" key={result?.done ?? "invite"}>
            <CsrfField />
            <input type="hidden" name="intent" value="invite" />
            <fieldset className="stack" disabled={cannotInvite !== null}>
              <legend className="visually-hidden">Invitation</legend>
              <label>
                Email
                <input name="email" type="email" autoComplete="off" required />
              </label>
              <label htmlFor="invite-role">Role</label>
              <RoleSelect id="invite-role" me={me} defaultValue="member" />
              <button type="submit" className="primary">
                Send invitation
              </button>
            </fieldset>
          </Form>
        )}
      </section>
    </div>
  );
}

/** Every role, those the caller cannot grant disabled and saying why. */
function RoleSelect({
  id,
  me,
  defaultValue,
}: {
  id: string;
  me: Parameters<typeof whyNotGrant>[0];
  defaultValue: string;
}) {
  return (
    <select id={id} name="role" defaultValue={defaultValue}>
      {ROLES.map((role) => {
        const why = whyNotGrant(me, role);
        return (
          <option key={role} value={role} disabled={why !== null}>
            {why ? `${role} (${why})` : role}
          </option>
        );
      })}
    </select>
  );
}
