import { Form, Link, redirect } from "react-router";
import { apiFailure, shownProblem } from "../../server/api";
import { signedIn, signedInForm, signedOut } from "../../server/signed-in";
import { CsrfField } from "../components/csrf";
import { ProblemNotice } from "../components/problem";
import type { Route } from "./+types/notifications";

export function meta() {
  return [{ title: "Notifications" }];
}

const PAGE_SIZE = 25;

/** The tenant's notifications, newest first, a page at a time (`?cursor=`). */
export async function loader(args: Route.LoaderArgs) {
  const { api } = signedIn(args);
  const cursor = new URL(args.request.url).searchParams.get("cursor") ?? undefined;
  const r = await api.GET("/v1/notifications", {
    params: { query: { limit: PAGE_SIZE, ...(cursor && { cursor }) } },
  });
  if (r.response.status === 401) throw signedOut(args);
  if (!r.data) throw apiFailure(r);
  return { page: r.data, paged: cursor !== undefined };
}

/** Mark one (`intent=read`, `id`) or all (`intent=read-all`) read, then back to this page. */
export async function action(args: Route.ActionArgs) {
  const { api, form } = await signedInForm(args);
  const r =
    form.get("intent") === "read-all"
      ? await api.POST("/v1/notifications/read-all")
      : await api.POST("/v1/notifications/{id}/read", {
          params: { path: { id: String(form.get("id") ?? "") } },
        });
  if (r.response.status === 401) throw signedOut(args);
  if (!r.data) return { problem: shownProblem(r) };
  // Not `request.url`: with JavaScript the action is reached at `/notifications.data`.
  const cursor = new URL(args.request.url).searchParams.get("cursor");
  return redirect(
    cursor ? `/notifications?cursor=${encodeURIComponent(cursor)}` : "/notifications",
  );
}

const when = new Intl.DateTimeFormat("en", { dateStyle: "medium", timeStyle: "short" });

export default function Notifications({ loaderData, actionData }: Route.ComponentProps) {
  const { page, paged } = loaderData;
  return (
    <div className="stack">
      <div className="row">
        <h1>Notifications</h1>
        <p className="muted" data-testid="unread-count">
          {page.unread_count === 0 ? "All read" : `${page.unread_count} unread`}
        </p>
        {page.unread_count > 0 && (
          <Form method="post">
            <CsrfField />
            <input type="hidden" name="intent" value="read-all" />
            <button type="submit">Mark all as read</button>
          </Form>
        )}
      </div>
      <ProblemNotice problem={actionData?.problem} />
      {page.data.length === 0 ? (
        <p>No notifications yet. Billing, usage, team and support events appear here.</p>
      ) : (
        <ul className="notifications stack">
          {page.data.map((n) => (
            <li key={n.id} className={`card${n.read_at ? "" : " unread"}`}>
              <h2>
                {n.link ? <Link to={n.link}>{n.title}</Link> : n.title}{" "}
                {!n.read_at && <span className="badge">Unread</span>}
              </h2>
              {n.body && <p>{n.body}</p>}
              <div className="row">
                <time className="muted" dateTime={n.created_at}>
                  {when.format(new Date(n.created_at))}
                </time>
                {!n.read_at && (
                  <Form method="post">
                    <CsrfField />
                    <input type="hidden" name="intent" value="read" />
                    <input type="hidden" name="id" value={n.id} />
                    <button type="submit" className="link" aria-label={`Mark as read: ${n.title}`}>
                      Mark as read
                    </button>
                  </Form>
                )}
              </div>
            </li>
          ))}
        </ul>
      )}
      <nav aria-label="Pages" className="row">
        {paged && <Link to="/notifications">Newest</Link>}
        {page.next_cursor && (
          <Link to={`/notifications?cursor=${encodeURIComponent(page.next_cursor)}`}>Older</Link>
        )}
      </nav>
    </div>
  );
}
