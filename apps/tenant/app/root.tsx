import { Document, ErrorPage } from "@tenantry/web/document";
import { isRouteErrorResponse, Outlet, useRouteLoaderData } from "react-router";
import { tenantAppRequest } from "../server/request";
import { sessionMiddleware } from "../server/signed-in";
import type { Route } from "./+types/root";
import "./app.css";

export const middleware: Route.MiddlewareFunction[] = [sessionMiddleware];

export function loader({ context }: Route.LoaderArgs) {
  const { nonce, requestId } = context.get(tenantAppRequest);
  return { nonce, requestId };
}

export function Layout({ children }: { children: React.ReactNode }) {
  const nonce = useRouteLoaderData<typeof loader>("root")?.nonce;
  return <Document nonce={nonce}>{children}</Document>;
}

export default function App() {
  return <Outlet />;
}

/** Failed API calls arrive as their problem line, which names the API's request id. */
export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  const requestId = useRouteLoaderData<typeof loader>("root")?.requestId;
  const status = isRouteErrorResponse(error) ? error.status : 500;
  const detail =
    isRouteErrorResponse(error) && typeof error.data === "string"
      ? error.data
      : `An unexpected error occurred.${requestId ? ` (request ${requestId})` : ""}`;
  return <ErrorPage status={status} detail={detail} />;
}
