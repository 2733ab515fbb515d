import { Form, NavLink, Outlet, redirect, useRouteLoaderData } from "react-router";
import { isApex } from "../../server/hosts";
import { tenantAppRequest } from "../../server/request";
import { signedIn, signedInCaller } from "../../server/signed-in";
import { logoUrl } from "../branding";
import { BillingBanner } from "../components/billing-banner";
import { NotificationBell } from "../components/notification-bell";
import { NAV } from "../nav";
import type { loader as rootLoader } from "../root";
import type { Route } from "./+types/app-layout";

/**
 * Every signed-in page sits in this layout: the caller from `GET /v1/me` (pages read it with
 * `useSignedIn`), the navigation, the notification bell, and the CSRF secret every form sends back.
 */
export async function loader(args: Route.LoaderArgs) {
  // The apex's only page in here is sign-up (`/`, see `home.tsx`): nobody is signed in there.
  if (isApex(args.request, args.context.get(tenantAppRequest).env)) return null;
  const { session } = signedIn(args);
  // The bell's count comes with the caller: a page view costs the API one call less.
  const me = await signedInCaller(args);
  // The workspace requires MFA and this member has none: enrolment is the only page open.
  const security = "/account/security";
  if (me.mfa_enrolment_required && !new URL(args.request.url).pathname.startsWith(security))
    throw redirect(security);
  return { me, csrf: session.csrf, unread: me.unread_notifications };
}

export default function AppLayout({ loaderData }: Route.ComponentProps) {
  const nonce = useRouteLoaderData<typeof rootLoader>("root")?.nonce;
  if (!loaderData) return <Outlet />;
  const { me, csrf, unread } = loaderData;
  const { accent_color: accent, logo_updated_at: logo } = me.branding;
  return (
    <>
      {/* The tenant's colour for every page; the API accepts only `#rrggbb`, so it is safe CSS. */}
      {accent && <style nonce={nonce}>{`:root{--accent:${accent}}`}</style>}
      <header className="app-header">
        <a className="skip" href="#main">
          Skip to content
        </a>
        <span className="brand">
          {logo && <img src={logoUrl(logo)} alt="" height={32} data-testid="brand-logo" />}
          <strong data-testid="brand-name">{me.tenant.name}</strong>
        </span>
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
        <BillingBanner tenant={me.tenant} />
        <Outlet />
      </main>
    </>
  );
}
