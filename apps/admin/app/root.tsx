import { Document, ErrorPage } from "@tenantry/web/document";
import { Form, isRouteErrorResponse, NavLink, Outlet, useRouteLoaderData } from "react-router";
import { currentOperator } from "../server/page-auth";
import { adminRequest } from "../server/request";
import type { Route } from "./+types/root";
import "./app.css";

export async function loader(args: Route.LoaderArgs) {
  const signedIn = await currentOperator(args);
  return {
    nonce: args.context.get(adminRequest).nonce,
    operator: signedIn && { name: signedIn.operator.name, role: signedIn.operator.role },
    csrf: signedIn?.csrfToken ?? null,
  };
}

const SECTIONS = [
  ["/tenants", "Tenants"],
  ["/billing", "Billing"],
  ["/fleet", "Fleet"],
  ["/support", "Support"],
  ["/operators", "Operators"],
  ["/audit", "Audit"],
  ["/tokens", "API tokens"],
] as const;

/** The top navigation, for signed-in operators only. */
function Nav() {
  const root = useRouteLoaderData<typeof loader>("root");
  if (!root?.operator || !root.csrf) return null;
  return (
    <nav className="top">
      <strong>Tenantry operators</strong>
      {SECTIONS.map(([to, label]) => (
        <NavLink key={to} to={to}>
          {label}
        </NavLink>
      ))}
      <span className="muted">
        {root.operator.name} · {root.operator.role}
      </span>
      <Form method="post" action="/sign-out">
        <input type="hidden" name="csrf" value={root.csrf} />
        <button type="submit">Sign out</button>
      </Form>
    </nav>
  );
}

export function Layout({ children }: { children: React.ReactNode }) {
  const nonce = useRouteLoaderData<typeof loader>("root")?.nonce;
  return (
    <Document nonce={nonce}>
      <Nav />
      {children}
    </Document>
  );
}

export default function App() {
  return <Outlet />;
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  const status = isRouteErrorResponse(error) ? error.status : 500;
  const detail = isRouteErrorResponse(error)
    ? (problemDetail(error.data) ?? error.statusText)
    : "An unexpected error occurred.";
  return <ErrorPage status={status} detail={detail} />;
}

/** What a thrown answer says: plain text, or the `detail` of a problem+json body (CSRF, Access). */
function problemDetail(data: unknown): string | null {
  if (typeof data !== "string") return null;
  try {
    const problem = JSON.parse(data) as { detail?: unknown };
    return typeof problem.detail === "string" ? problem.detail : data;
  } catch {
    return data;
  }
}
