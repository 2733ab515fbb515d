import { Form, NavLink, Outlet } from "react-router";
import { isApex } from "../../server/hosts";
import { tenantAppRequest } from "../../server/request";
import { signedIn, signedInCaller } from "../../server/signed-in";
import { NAV } from "../nav";
import type { Route } from "./+types/app-layout";

/**
 * Every signed-in page sits in this layout: the caller from `GET /v1/me` (pages read it with
 * `useSignedIn`), the navigation, and the CSRF secret every form sends back.
 */
export async function loader(args: Route.LoaderArgs) {
  // The apex's only page in here is sign-up (`/`, see `home.tsx`): nobody is signed in there.
  if (isApex(args.request, args.context.get(tenantAppRequest).env)) return null;
  const { session } = signedIn(args);
  return { me: await signedInCaller(args), csrf: session.csrf };
}

export default function AppLayout({ loaderData }: Route.ComponentProps) {
  if (!loaderData) return <Outlet />;
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
        <Outlet />
      </main>
    </>
  );
}
