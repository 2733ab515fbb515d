import { Form, NavLink, Outlet } from "react-router";
import { apiFailure } from "../../server/api";
import { signedIn, signedOut } from "../../server/signed-in";
import { BillingBanner } from "../components/billing-banner";
import { NAV } from "../nav";
import type { Route } from "./+types/app-layout";

/**
 * Every signed-in page sits in this layout: the caller from `GET /v1/me` (pages read it with
 * `useSignedIn`), the navigation, and the CSRF secret every form sends back.
 */
export async function loader(args: Route.LoaderArgs) {
  const { api, session } = signedIn(args);
  const me = await api.GET("/v1/me");
  if (me.response.status === 401) throw signedOut(args);
  if (!me.data) throw apiFailure(me);
  return { me: me.data, csrf: session.csrf };
}

export default function AppLayout({ loaderData }: Route.ComponentProps) {
  const { me, csrf } = loaderData;
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
        <BillingBanner tenant={me.tenant} />
        <Outlet />
      </main>
    </>
  );
}
