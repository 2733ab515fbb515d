import { Form, NavLink, Outlet } from "react-router";
import { apiFailure } from "../../server/api";
import { signedIn, signedOut } from "../../server/signed-in";
import { NotificationBell } from "../components/notification-bell";
import { NAV } from "../nav";
import type { Route } from "./+types/app-layout";

/**
 * Every signed-in page sits in this layout: the caller from `GET /v1/me` (pages read it with
 * `useSignedIn`), the navigation, the notification bell, and the CSRF secret every form sends back.
 */
export async function loader(args: Route.LoaderArgs) {
  const { api, session } = signedIn(args);
  // The bell's count in parallel with the caller: one page of one item carries `unread_count`.
  const [me, inbox] = await Promise.all([
    api.GET("/v1/me"),
    api.GET("/v1/notifications", { params: { query: { limit: 1 } } }),
  ]);
  if (me.response.status === 401) throw signedOut(args);
  if (!me.data) throw apiFailure(me);
  // A failed count must not take every page down: the bell says it is unavailable.
  return { me: me.data, csrf: session.csrf, unread: inbox.data?.unread_count ?? null };
}

export default function AppLayout({ loaderData }: Route.ComponentProps) {
  const { me, csrf, unread } = loaderData;
  return (
    <>
      <header className="app-header">
        <a className="skip" href="#main">
          Skip to content
        </a>
        <strong className="brand">{me.tenant.name}</strong>
        <nav aria-label="Main">
          <ul>
            {NAV.map((item) => (
              <li key={item.to}>
                <NavLink to={item.to} end={item.to === "/"}>
                  {item.label}
                </NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who">
          <NotificationBell unread={unread} />
          <span data-testid="user-email">{me.user?.email}</span>
          <Form method="post" action="/sign-out">
            <input type="hidden" name="csrf" value={csrf} />
            <button type="submit" className="link">
              Sign out
            </button>
          </Form>
        </div>
      </header>
      <main id="main" className="page">
        <Outlet />
      </main>
    </>
  );
}
